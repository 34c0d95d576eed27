"""Sessions without a transaction (`db.session.autocommit_session`) and the endpoints that use them."""

from __future__ import annotations

import uuid

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import delete, select

from gateway.data_api.router import router as data_api_router
from gateway.db.session import (
    Database,
    autocommit_session,
    autocommits,
    transaction,
    writes_one_statement,
)
from gateway.keys.keyring import Keyring
from gateway.keys.models import ServerSecret
from gateway.settings import Settings
from tests.support.databases import backend


async def test_autocommit_only_on_postgresql_with_the_apps_own_engine(settings: Settings) -> None:
    database = Database.from_settings(settings)
    try:
        async with autocommit_session(database) as session:
            assert autocommits(session) is (backend() == "postgresql")
    finally:
        await database.dispose()


@pytest.mark.postgres_only
async def test_each_statement_commits_and_a_server_secret_is_made_in_one(
    settings: Settings, master_key: bytes
) -> None:
    """What an autocommit session writes is visible to others at once: a data-access record is committed
    before the answer is sent. Creating a server secret there is one statement (no savepoint)."""
    database = Database.from_settings(settings)
    name = f"test-{uuid.uuid4().hex[:12]}"
    keyring = Keyring(master_key)
    try:
        async with autocommit_session(database) as session:
            value = await keyring.secret(session, name)
            async with transaction(database) as other:
                stored = await other.scalar(select(ServerSecret.name).where(ServerSecret.name == name))
            assert stored == name  # committed while the autocommit session is still open
        async with transaction(database) as session:
            assert await Keyring(master_key).secret(session, name) == value  # the same secret, unwrapped
    finally:
        async with transaction(database) as session:
            await session.execute(delete(ServerSecret).where(ServerSecret.name == name))
        await database.dispose()


def test_the_data_apis_reads_are_marked_and_the_changes_feed_is_not() -> None:
    """Listing and reading records write one statement (the data-access record); the changes feed keeps
    a transaction (it writes audience snapshots too)."""
    routes = [route for route in data_api_router.routes if isinstance(route, APIRoute)]
    marked = {route.path for route in routes if writes_one_statement(route.endpoint)}
    data_reads = {route.path for route in routes if not route.path.startswith("/api/v1/changes")}
    assert "/api/v1/students" in marked
    assert "/api/v1/students/{record_id}" in marked
    assert "/api/v1/school" in marked
    assert marked == data_reads
