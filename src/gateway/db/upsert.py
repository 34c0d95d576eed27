"""`INSERT … ON CONFLICT` for the database a session is on: PostgreSQL and SQLite spell it the same way in
SQLAlchemy, but through their own dialect's `insert`."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_for(session: AsyncSession, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An insert into `table` (a table or a mapped class) that offers `on_conflict_do_nothing`."""
    if (await session.connection()).dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
