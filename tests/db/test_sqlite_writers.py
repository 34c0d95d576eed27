"""The embedded SQLite database with a background worker beside the requests: a transaction that read and
then writes, while another connection commits a write in between, waits its turn instead of failing with
"database is locked" (every transaction begins IMMEDIATE); a connection that only reads begins deferred and
never waits for the write lock."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.db.engine import READS_ONLY, create_engine
from gateway.settings import Settings


def _engine(tmp_path: Path) -> AsyncEngine:
    return create_engine(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'writers.db'}"))


async def test_a_read_then_write_survives_another_connections_commit(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    try:
        async with engine.begin() as setup:
            await setup.execute(text("CREATE TABLE counter (n INTEGER)"))
            await setup.execute(text("INSERT INTO counter VALUES (0)"))
        read = asyncio.Event()

        async def request() -> None:  # reads, then writes a little later
            async with engine.begin() as connection:
                await connection.execute(text("SELECT n FROM counter"))
                read.set()
                await asyncio.sleep(0.2)
                await connection.execute(text("UPDATE counter SET n = n + 1"))

        async def worker() -> None:  # commits a write while the request is between its read and write
            await read.wait()
            async with engine.begin() as connection:
                await connection.execute(text("UPDATE counter SET n = n + 10"))

        await asyncio.gather(request(), worker())
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT n FROM counter"))).scalar_one() == 11
    finally:
        await engine.dispose()


async def test_a_reading_connection_does_not_wait_for_a_writer(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    try:
        async with engine.begin() as setup:
            await setup.execute(text("CREATE TABLE t (n INTEGER)"))
        async with engine.begin() as writer:
            await writer.execute(text("INSERT INTO t VALUES (1)"))  # holds the write lock
            async with engine.connect() as reader:
                await reader.execution_options(**{READS_ONLY: True})
                async with asyncio.timeout(1):  # far below the 5 s busy timeout
                    assert (await reader.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
    finally:
        await engine.dispose()
