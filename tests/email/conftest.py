"""Sessions on the test's connection, for the outbox and its worker (the SMTP server is `smtp_server`, in
tests/conftest.py)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.db.session import Database


@pytest.fixture
def sessions(test_database: Database) -> async_sessionmaker[AsyncSession]:
    """Opens sessions on the test's connection; their commits are SAVEPOINT releases, rolled back after."""
    return test_database.sessionmaker
