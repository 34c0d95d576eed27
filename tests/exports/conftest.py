"""A school with records, a grant (with its receipt), a data access and an API key; and building exports
as the worker of `gateway serve` does, on the test's connection, with the clock a test chooses."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.consent.receipts import ReceiptDecision, record_receipt
from gateway.db.base import utcnow
from gateway.db.session import Database
from gateway.exports.build import build_next
from gateway.exports.chunks import CHUNK_BYTES
from gateway.keys.keyring import Keyring
from gateway.settings import Settings
from tests.support.grants import Connected, record_access
from tests.support.http import TEST_ISSUER


@pytest.fixture(autouse=True)
def _fresh_keys(fresh_jwks_cache: None) -> None:
    """Each test's signing keys are rolled back with it."""


@pytest.fixture
async def loaded(session: AsyncSession, connected: Connected) -> Connected:
    await record_receipt(session, connected.grant, ReceiptDecision.APPROVED, actor="system", now=utcnow())
    await session.commit()
    await record_access(session, connected)
    return connected


class Builder:
    """`build.build_next` on the test's database."""

    def __init__(self, database: Database, keyring: Keyring, issuer: str) -> None:
        self.database, self.keyring, self.issuer = database, keyring, issuer

    async def __call__(
        self, *, now: datetime | None = None, chunk_bytes: int = CHUNK_BYTES
    ) -> uuid.UUID | None:
        return await build_next(
            self.database.sessionmaker,
            self.keyring,
            issuer=self.issuer,
            clock=(lambda: now) if now is not None else utcnow,
            chunk_bytes=chunk_bytes,
        )


@pytest.fixture
def build(test_database: Database, keyring: Keyring, settings: Settings) -> Builder:
    return Builder(test_database, keyring, settings.issuer)


@pytest.fixture
async def raising_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client that sees an error the app raises after the response started (a cut-off stream)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url=TEST_ISSUER) as client:
        yield client
