"""What a thief of the database files would get, for tests that prove personal data is not there."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from gateway.db.engine import create_engine
from gateway.models import metadata
from gateway.settings import Settings


async def everything_stored(url: str, data_file: Path | None) -> str:
    """Every byte a thief of the database would get: the SQLite files, or every row of every table."""
    if data_file is not None:
        return b"".join(p.read_bytes() for p in data_file.parent.glob(data_file.name + "*")).decode("latin-1")
    engine = create_engine(Settings(database_url=url))
    try:
        async with engine.connect() as connection:
            rows = [
                repr(tuple(row))
                for table in metadata.sorted_tables
                for row in await connection.execute(select(table))
            ]
    finally:
        await engine.dispose()
    return "\n".join(rows)
