"""Guarded writes: an UPDATE or DELETE whose WHERE states what must still hold, and how many rows it changed.

Single-use changes (consuming a code, rotating a refresh token, ending a grant, claiming a mail) are one
such statement each: two requests racing for the same row cannot both change it, and the loser learns so
from the count instead of from a read that may already be stale. The ORM's identity map is not touched
(`synchronize_session=False`): callers refresh the objects they go on using.
"""

from __future__ import annotations

from sqlalchemy import Delete, Update
from sqlalchemy.ext.asyncio import AsyncSession


async def changed_rows(session: AsyncSession, statement: Update | Delete) -> int:
    """Run `statement` and return how many rows it changed (0 when its guard no longer held)."""
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)
