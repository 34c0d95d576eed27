"""Developers, each with a developer key, made directly."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.developers import service
from gateway.developers.models import Developer
from gateway.keys.keyring import Keyring


@dataclass
class DeveloperWithKey:
    developer: Developer
    prefix: str
    key: str


async def make_developer(session: AsyncSession, keyring: Keyring, name: str, email: str) -> DeveloperWithKey:
    developer, row, key = await service.create_developer(session, keyring, name=name, email=email)
    await session.commit()
    return DeveloperWithKey(developer, row.prefix, key)
