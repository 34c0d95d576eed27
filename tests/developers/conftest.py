"""A developer with a key, for `/developer/v1`."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.developers import service
from gateway.developers.models import Developer
from gateway.keys.keyring import Keyring


@dataclass
class DeveloperWithKey:
    developer: Developer
    prefix: str
    key: str


@pytest.fixture
def keyring(master_key_b64: str) -> Keyring:
    return Keyring(base64.b64decode(master_key_b64))


async def make_developer(session: AsyncSession, keyring: Keyring, name: str, email: str) -> DeveloperWithKey:
    developer, row, key = await service.create_developer(session, keyring, name=name, email=email)
    await session.commit()
    return DeveloperWithKey(developer, row.prefix, key)


@pytest.fixture
async def developer(session: AsyncSession, keyring: Keyring) -> DeveloperWithKey:
    return await make_developer(session, keyring, "Synthetic Apps Ltd", "Dev@Synthetic-Apps.example.org")


@pytest.fixture
async def other_developer(session: AsyncSession, keyring: Keyring) -> DeveloperWithKey:
    return await make_developer(session, keyring, "Other Apps Ltd", "dev@other-apps.example.org")


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}
