"""After a purge, the database files: on SQLite, the write-ahead log still holds the pages as they were.

`secure_delete` (set on every SQLite connection, `gateway.db.engine`) overwrites a deleted row in the
database file; the WAL keeps earlier page images until it is checkpointed and reused. A TRUNCATE
checkpoint copies the WAL into the database and empties it, so no earlier page survives in either file.
PostgreSQL has no equivalent: a deleted row's bytes stay in the table's free space until reused (see the
README's "Retention rules").
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine


async def settle_files(engine: AsyncEngine) -> None:
    """On SQLite, checkpoint the WAL into the database file and truncate it; on PostgreSQL, nothing."""
    if engine.dialect.name != "sqlite":
        return
    async with engine.connect() as connection:
        # On the driver's connection: every statement through SQLAlchemy begins a transaction first
        # (`gateway.db.engine`), and a checkpoint cannot run inside one.
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
