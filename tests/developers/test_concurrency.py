"""Parallel rotations with one developer key, on separate connections: exactly one wins."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from gateway.db import migrations
from gateway.db.engine import create_engine
from gateway.developers import service
from gateway.developers.models import DeveloperKey
from gateway.errors import Unauthorized
from gateway.keys.keyring import Keyring
from gateway.settings import Settings
from tests.support.databases import throwaway_database

ROTATORS = 10


@pytest.mark.postgres_only
async def test_ten_parallel_rotations_leave_one_live_key(tmp_path: Path) -> None:
    async with throwaway_database(tmp_path) as url:
        engine = create_engine(Settings(database_url=url, db_pool_size=ROTATORS))
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        keyring = Keyring(os.urandom(32))
        try:
            await migrations.upgrade(engine)
            async with sessions() as session, session.begin():
                _developer, _row, key = await service.create_developer(
                    session, keyring, name="Racing Apps", email="race@racing-apps.example.org"
                )
            ready = 0
            everyone_ready = asyncio.Event()
            go = asyncio.Event()

            async def rotate() -> str | None:
                nonlocal ready
                async with sessions() as session, session.begin():
                    await session.execute(text("SELECT 1"))  # own connection, transaction open
                    caller = await service.authenticate(session, keyring, key)
                    ready += 1
                    if ready == ROTATORS:
                        everyone_ready.set()
                    await go.wait()
                    try:
                        _new, token = await service.rotate_key(session, keyring, caller)
                    except Unauthorized:
                        return None
                    return token

            tasks = [asyncio.create_task(rotate()) for _ in range(ROTATORS)]
            await asyncio.wait_for(everyone_ready.wait(), 30)
            go.set()
            results = await asyncio.gather(*tasks)

            winners = [token for token in results if token is not None]
            assert len(winners) == 1
            async with sessions() as session:
                live = await session.scalar(
                    select(func.count()).select_from(DeveloperKey).where(DeveloperKey.revoked_at.is_(None))
                )
                assert live == 1
                assert (await service.authenticate(session, keyring, winners[0])).key.revoked_at is None
                with pytest.raises(Unauthorized):
                    await service.authenticate(session, keyring, key)
        finally:
            await engine.dispose()
