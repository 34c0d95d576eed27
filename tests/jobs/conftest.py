"""Sessions on the test's connection for the job runner (their commits are SAVEPOINT releases, rolled back
after the test), and a job name of its own for each test, so no `job_runs` row is shared."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.db.session import Database


@pytest.fixture
def sessions(test_database: Database) -> async_sessionmaker[AsyncSession]:
    return test_database.sessionmaker


@pytest.fixture
def job_name() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"
