"""A school's exports through its API: start one, list them, read one (SPEC §3.8).

Starting queues the export in the caller's transaction and wakes this process's worker once it commits
(`wake`); the workers of other processes find it at their next poll. A school has at most one export
queued or running: a second is refused (409) until it is done, and a partial unique index settles two
requests racing.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.after_commit import set_after_commit
from gateway.errors import Conflict, NotFound, Problem
from gateway.exports.models import ACTIVE_STATES, Export, ExportState

__all__ = [
    "LIFETIME",
    "ExportGone",
    "ExportNotFound",
    "ExportNotReady",
    "ExportUnderWay",
    "find_export",
    "list_exports",
    "shown_state",
    "start_export",
    "wake",
]

LIFETIME: Final = timedelta(hours=24)  # a ready export can be downloaded (once) for this long
MAX_LISTED: Final = 100

wake = asyncio.Event()
"""Set when a transaction that queued an export commits in this process; the worker waits on it."""

_HOOKED = "gateway_exports_hooked"


class ExportUnderWay(Conflict):
    def __init__(self, export_id: uuid.UUID | None) -> None:
        which = f" ({export_id})" if export_id is not None else ""
        super().__init__(
            f"An export of this school is already queued or running{which}: wait for it to finish."
        )


class ExportNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No export with this id in the school.")


class ExportNotReady(Conflict):
    def __init__(self, state: ExportState) -> None:
        super().__init__(f"The export is {state.value}: only a ready export can be downloaded.")


class ExportGone(Problem):
    status, slug, title = 410, "gone", "Gone"

    def __init__(self, state: ExportState) -> None:
        super().__init__(
            f"The export is {state.value}: it can be downloaded once, within 24 hours of being ready. "
            "Start a new one."
        )


def wake_after_commit(session: AsyncSession) -> None:
    """Wake this process's export worker once the session's transaction commits."""
    set_after_commit(session, wake, _HOOKED)


async def start_export(session: AsyncSession, school_id: uuid.UUID, *, actor: str, now: datetime) -> Export:
    """Queue an export of the school for `actor` (an audit actor); `ExportUnderWay` if one is pending."""
    pending = await session.scalar(
        select(Export.id).where(Export.school_id == school_id, Export.state.in_(ACTIVE_STATES))
    )
    if pending is not None:
        raise ExportUnderWay(pending)
    row = Export(
        id=uuid.uuid4(),
        school_id=school_id,
        requested_by=actor,
        state=ExportState.QUEUED.value,
        created_at=now,
        attempts=0,
        records_done=0,
        records_total=0,
    )
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:  # another request queued one between the check and this insert
        raise ExportUnderWay(None) from None
    wake_after_commit(session)
    return row


def shown_state(row: Export, now: datetime) -> ExportState:
    """The state as the school sees it: a ready export past its 24 hours is expired before the purge
    job has marked it so."""
    state = ExportState(row.state)
    if state is ExportState.READY and row.expires_at is not None and row.expires_at <= now:
        return ExportState.EXPIRED
    return state


async def list_exports(
    session: AsyncSession, school_id: uuid.UUID, *, limit: int = MAX_LISTED
) -> list[Export]:
    """The school's exports, newest first."""
    return list(
        await session.scalars(
            select(Export)
            .where(Export.school_id == school_id)
            .order_by(Export.created_at.desc(), Export.id.desc())
            .limit(limit)
        )
    )


async def find_export(session: AsyncSession, school_id: uuid.UUID, export_id: uuid.UUID) -> Export:
    """One of the school's exports; another school's is not found, like an unknown one."""
    row = await session.scalar(select(Export).where(Export.id == export_id, Export.school_id == school_id))
    if row is None:
        raise ExportNotFound
    return row
