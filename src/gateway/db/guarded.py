"""Guarded writes: an UPDATE or DELETE whose WHERE states what must still hold, and how many rows it changed.

Single-use changes (consuming a code, rotating a refresh token, ending a grant, claiming a mail) are one
such statement each: two requests racing for the same row cannot both change it, and the loser learns so
from the count instead of from a read that may already be stale. By default the ORM's identity map is not
touched: callers refresh the objects they go on using, or ask for `synchronize="fetch"`.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import Delete, Update
from sqlalchemy.ext.asyncio import AsyncSession


async def changed_rows(
    session: AsyncSession, statement: Update | Delete, *, synchronize: Literal[False, "auto", "fetch"] = False
) -> int:
    """Run `statement` and return how many rows it changed (0 when its guard no longer held).

    `synchronize="fetch"` (or "auto", SQLAlchemy's default) also updates objects of the session that the
    statement changed, for callers that go on using them.
    """
    result = await session.execute(statement.execution_options(synchronize_session=synchronize))
    return int(getattr(result, "rowcount", 0) or 0)
