"""Setting an event once a session's transaction commits: how a request that queued work (a webhook, an
export) wakes this process's worker without it polling, and never before the work is visible."""

from __future__ import annotations

import asyncio

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session


def set_after_commit(session: AsyncSession, flag: asyncio.Event, marker: str) -> None:
    """Set `flag` when `session`'s transaction commits; `marker` (one per flag) hooks each session once."""
    sync: Session = session.sync_session
    if sync.info.get(marker):
        return
    sync.info[marker] = True

    def committed(_session: Session) -> None:
        flag.set()

    event.listen(sync, "after_commit", committed)
