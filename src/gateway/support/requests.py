"""A support request's life: asked by a named operator, answered by the school, live until it ends.

Every step is an event in the school's log naming the request (never the operator's reason, which is in
the request row for the school to read). Answering is guarded (one UPDATE whose WHERE says the request is
still pending), so two admins answering at once cannot both decide; shortening and withdrawing likewise
only touch a live approval. Only an admin who signed in with a second factor may approve (`approve`
checks it); declining, shortening and withdrawing only ever reduce access, so a school API key may too.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.events import EventType
from gateway.audit.service import record_event
from gateway.db.guarded import changed_rows
from gateway.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from gateway.mis.records import RECORD_MODELS
from gateway.schools.models import School
from gateway.support.models import SupportRequest

MAX_HOURS: Final = 168
DEFAULT_HOURS: Final = 24
MAX_REASON: Final = 500
PURPOSES: Final = ("read", "add_admin", "export")
_OPERATOR = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestNotLive(Forbidden):
    slug, title = "support-not-approved", "No live support approval"


class AlreadyAnswered(Conflict):
    slug, title = "support-answered", "Already answered"


def _invalid(detail: str, pointer: str) -> InvalidInput:
    return InvalidInput(detail, errors=[{"detail": detail, "pointer": pointer}])


def check_request(
    operator: str, reason: str, resources: Sequence[str], hours: int, purpose: str
) -> list[str]:
    """The resources as stored (sorted, unique); InvalidInput naming the first bad field."""
    if not _OPERATOR.fullmatch(operator):
        raise _invalid(
            "the operator is a handle of 1 to 64 letters, digits, dots, dashes or underscores", "#/by"
        )
    if purpose not in PURPOSES:
        raise _invalid(f"the purpose is one of {', '.join(PURPOSES)}", "#/purpose")
    text = reason.strip()
    if not text or len(text) > MAX_REASON or any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise _invalid(f"the reason is 1 to {MAX_REASON} characters of text", "#/reason")
    if not 1 <= hours <= MAX_HOURS:
        raise _invalid(f"hours is 1 to {MAX_HOURS}", "#/hours")
    unknown = sorted(set(resources) - set(RECORD_MODELS))
    if unknown:
        raise _invalid(
            f"unknown resources; the resources are: {', '.join(sorted(RECORD_MODELS))}", "#/resources"
        )
    if purpose == "read" and not resources:
        raise _invalid("name the resources to read", "#/resources")
    return sorted(set(resources))


async def request_support(
    session: AsyncSession,
    school: School,
    *,
    operator: str,
    reason: str,
    resources: Sequence[str],
    hours: int,
    purpose: str = "read",
    now: datetime,
) -> SupportRequest:
    """Record the request (`support.requested`); the caller tells the admins (`gateway.support.notices`)."""
    stored = check_request(operator, reason, resources, hours, purpose)
    row = SupportRequest(
        school_id=school.id,
        operator=operator,
        purpose=purpose,
        reason=reason.strip(),
        resources=" ".join(stored),
        hours=hours,
        requested_at=now,
    )
    session.add(row)
    await session.flush()
    await record_event(
        session,
        school_id=school.id,
        event_type=EventType.SUPPORT_REQUESTED,
        actor="operator",
        details={"request_id": str(row.id), "purpose": purpose, "resources": stored, "hours": hours},
        occurred_at=now,
    )
    return row


async def school_request(
    session: AsyncSession, school_id: uuid.UUID, request_id: uuid.UUID
) -> SupportRequest:
    """The school's request; NotFound for another school's (or no) request."""
    row = await session.scalar(
        select(SupportRequest)
        .where(SupportRequest.id == request_id, SupportRequest.school_id == school_id)
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise NotFound("No such support request.")
    return row


async def requests_of(
    session: AsyncSession, school_id: uuid.UUID, *, limit: int = 100
) -> list[SupportRequest]:
    rows = await session.scalars(
        select(SupportRequest)
        .where(SupportRequest.school_id == school_id)
        .order_by(SupportRequest.requested_at.desc(), SupportRequest.id)
        .limit(limit)
    )
    return list(rows)


async def _transition(
    session: AsyncSession,
    row: SupportRequest,
    *,
    guard: Sequence[ColumnElement[bool]],
    values: Mapping[str, object],
    refused: Problem,
    event_type: EventType,
    details: Mapping[str, str],
    actor: str,
    now: datetime,
) -> SupportRequest:
    """One guarded step of the request's life and its event: `refused` when `guard` no longer holds."""
    changed = await changed_rows(
        session, update(SupportRequest).where(SupportRequest.id == row.id, *guard).values(**values)
    )
    if not changed:
        raise refused
    await session.refresh(row)
    await record_event(
        session,
        school_id=row.school_id,
        event_type=event_type,
        actor=actor,
        details={"request_id": str(row.id), **details},
        occurred_at=now,
    )
    return row


async def _answer(
    session: AsyncSession, row: SupportRequest, *, approved: bool, actor: str, now: datetime, hours: int
) -> SupportRequest:
    values: dict[str, object] = {"decided_at": now, "decided_by": actor, "approved": approved}
    details: dict[str, str] = {}
    if approved:
        expires_at = now + timedelta(hours=hours)
        values["expires_at"] = expires_at
        details["expires_at"] = expires_at.isoformat()
    return await _transition(
        session,
        row,
        guard=[SupportRequest.approved.is_(None), SupportRequest.break_glass.is_(False)],
        values=values,
        refused=AlreadyAnswered("This support request has been answered already."),
        event_type=EventType.SUPPORT_APPROVED if approved else EventType.SUPPORT_DECLINED,
        details=details,
        actor=actor,
        now=now,
    )


async def approve(
    session: AsyncSession,
    school_id: uuid.UUID,
    request_id: uuid.UUID,
    *,
    actor: str,
    with_second_factor: bool,
    now: datetime,
    hours: int | None = None,
) -> SupportRequest:
    """Allow the request for `hours` (at most what was asked; default all of it) from now."""
    row = await school_request(session, school_id, request_id)
    if not with_second_factor:
        raise Forbidden(
            "Approving support access needs an admin signed in with an authenticator app "
            "(set one up on your account page); a school API key cannot approve."
        )
    granted = row.hours if hours is None else hours
    if not 1 <= granted <= row.hours:
        raise _invalid(f"hours is 1 to {row.hours}, what was asked for", "#/hours")
    return await _answer(session, row, approved=True, actor=actor, now=now, hours=granted)


async def decline(
    session: AsyncSession, school_id: uuid.UUID, request_id: uuid.UUID, *, actor: str, now: datetime
) -> SupportRequest:
    row = await school_request(session, school_id, request_id)
    return await _answer(session, row, approved=False, actor=actor, now=now, hours=0)


async def _end_sooner(
    session: AsyncSession, row: SupportRequest, *, until: datetime, withdrawn: bool, actor: str, now: datetime
) -> SupportRequest:
    if not row.live_at(now):
        raise Conflict("This support request is not live: there is nothing to end.")
    if until <= now:
        until = now
    assert row.expires_at is not None
    if until >= row.expires_at:
        raise _invalid("the new end must be earlier than the current one", "#/until")
    values: dict[str, datetime] = {"expires_at": until} | ({"withdrawn_at": now} if withdrawn else {})
    return await _transition(
        session,
        row,
        guard=[SupportRequest.withdrawn_at.is_(None), SupportRequest.expires_at == row.expires_at],
        values=values,
        refused=Conflict("The support request changed meanwhile. Read it again, then retry."),
        event_type=EventType.SUPPORT_WITHDRAWN if withdrawn else EventType.SUPPORT_SHORTENED,
        details={"expires_at": until.isoformat()},
        actor=actor,
        now=now,
    )


async def shorten(
    session: AsyncSession,
    school_id: uuid.UUID,
    request_id: uuid.UUID,
    *,
    until: datetime,
    actor: str,
    now: datetime,
) -> SupportRequest:
    """Bring a live approval's end forward to `until` (now at the earliest)."""
    row = await school_request(session, school_id, request_id)
    return await _end_sooner(session, row, until=until, withdrawn=False, actor=actor, now=now)


async def withdraw(
    session: AsyncSession, school_id: uuid.UUID, request_id: uuid.UUID, *, actor: str, now: datetime
) -> SupportRequest:
    """End a live approval now."""
    row = await school_request(session, school_id, request_id)
    return await _end_sooner(session, row, until=now, withdrawn=True, actor=actor, now=now)


async def live_request(
    session: AsyncSession, request_id: uuid.UUID, *, purpose: str, now: datetime
) -> SupportRequest:
    """The approval behind an operator's command: live now and for `purpose`, else RequestNotLive."""
    row = await session.scalar(
        select(SupportRequest)
        .where(SupportRequest.id == request_id)
        .execution_options(populate_existing=True)
    )
    if row is None or row.purpose != purpose or not row.live_at(now):
        raise RequestNotLive(
            "No live approval for this request: it is unknown, pending, declined, withdrawn, expired, used, "
            f"or not for {purpose}."
        )
    return row


async def use_once(session: AsyncSession, row: SupportRequest, *, now: datetime) -> None:
    """Spend a one-off approval (`add_admin`, `export`): guarded, so it serves one command only."""
    used = await changed_rows(
        session,
        update(SupportRequest)
        .where(
            SupportRequest.id == row.id,
            SupportRequest.used_at.is_(None),
            SupportRequest.withdrawn_at.is_(None),
        )
        .values(used_at=now),
    )
    if not used:
        raise RequestNotLive("This approval has been used already.")


async def school_approval(
    session: AsyncSession, school_id: uuid.UUID, *, purpose: str, now: datetime
) -> SupportRequest:
    """The school's newest approval for `purpose` that is live now, for a command not told which one."""
    for row in await requests_of(session, school_id):
        if row.purpose == purpose and row.live_at(now):
            return row
    raise RequestNotLive(
        f"The school has not allowed this: ask with `gateway support request --school … --purpose {purpose} "
        "--reason …` and run this again once an admin has approved it."
    )
