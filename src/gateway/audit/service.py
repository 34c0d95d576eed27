"""Recording, listing and verifying the authorisation log (SPEC §4). Services flush; callers commit."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.chain import GENESIS_HASH, BrokenLink, ChainVerifier, event_hash
from gateway.audit.checkpoints import Checkpoint, CheckpointInvalid, last_checkpoint, verify_stored
from gateway.audit.details import encode_details
from gateway.audit.events import EventType, check_actor
from gateway.audit.models import AuditEvent, hashed_fields
from gateway.audit.repository import AuditLog
from gateway.db.base import utcnow
from gateway.errors import NotFound
from gateway.schools.models import School

MAX_PAGE = 1000
VERIFY_PAGE = 1000  # events read per query while verifying


class UnreadableEvent(Exception):
    """A stored event whose columns cannot even be read back: it was altered outside the gateway."""


@dataclass(frozen=True, slots=True)
class CheckpointFault:
    """The live chain does not reproduce its last signed checkpoint: events were cut off or changed at
    `seq` (or the checkpoint itself is not valid, then `seq` is None)."""

    seq: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    """One school's verification: how many events were checked, the first broken one, and how the chain
    compares with the school's last signed checkpoint (None: no checkpoint yet)."""

    school_id: uuid.UUID
    events_checked: int
    broken: BrokenLink | None
    checkpoint: Checkpoint | None = None
    checkpoint_fault: CheckpointFault | None = None

    @property
    def ok(self) -> bool:
        return self.broken is None and self.checkpoint_fault is None


async def record_event(
    session: AsyncSession,
    *,
    school_id: uuid.UUID,
    event_type: EventType,
    actor: str,
    details: Mapping[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> AuditEvent:
    """Append an event to the school's chain and flush; it is kept if the caller's transaction commits.

    The school's row is locked first, so concurrent appends for one school queue rather than fork the
    chain; the unique (school_id, seq) constraint is the backstop. `actor` and `details` must identify by
    id only (`gateway.audit.details`): ValueError or TypeError otherwise, before anything is written.
    """
    kind = EventType(event_type)
    check_actor(actor)
    stored_details = encode_details(details)
    if occurred_at is None:
        occurred_at = utcnow()
    elif occurred_at.utcoffset() is None:
        raise ValueError("occurred_at must be timezone-aware")
    log = AuditLog(session, school_id)
    if not await log.lock():
        raise NotFound(f"No school {school_id}.")
    head = await log.head()
    seq, prev_hash = (1, GENESIS_HASH) if head is None else (head[0] + 1, head[1])
    columns: dict[str, Any] = {
        "id": uuid.uuid4(),
        "school_id": school_id,
        "seq": seq,
        "event_type": kind.value,
        "actor": actor,
        "occurred_at": occurred_at.astimezone(UTC),
        "details": stored_details,
    }
    event = AuditEvent(**columns, prev_hash=prev_hash, hash=event_hash(prev_hash, hashed_fields(**columns)))
    await log.append(event)
    return event


async def list_events(
    session: AsyncSession, school_id: uuid.UUID, *, after_seq: int = 0, limit: int = 100
) -> list[AuditEvent]:
    """A page of one school's events in chain order, after `after_seq` (the cursor)."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}")
    return await AuditLog(session, school_id).events(after_seq=after_seq, limit=limit)


@dataclass(frozen=True, slots=True)
class EventFilter:
    """What `GET /manage/v1/audit-log` narrows to. Its `repr` binds a page cursor to the query."""

    event_type: EventType | None = None
    app_id: uuid.UUID | None = None  # events whose details name this app (`app_id`)
    actor: str | None = None  # exactly this stored actor, e.g. `admin:<id>` or `app:<client_id>`
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive

    def conditions(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if self.event_type is not None:
            where.append(AuditEvent.event_type == self.event_type.value)
        if self.app_id is not None:
            # `details` is canonical JSON (no spaces, sorted keys), so this is an exact member match;
            # a UUID's text holds no LIKE wildcard.
            where.append(AuditEvent.details.contains(f'"app_id":"{self.app_id}"', autoescape=True))
        if self.actor is not None:
            where.append(AuditEvent.actor == self.actor)
        if self.since is not None:
            where.append(AuditEvent.occurred_at >= self.since)
        if self.until is not None:
            where.append(AuditEvent.occurred_at < self.until)
        return where


async def find_events(
    session: AsyncSession,
    school_id: uuid.UUID,
    where: EventFilter,
    *,
    before_seq: int | None = None,
    limit: int = 100,
) -> list[AuditEvent]:
    """One school's events matching `where`, newest (highest seq) first, below `before_seq` (the cursor)."""
    if not 1 <= limit <= MAX_PAGE + 1:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE + 1}")
    query = select(AuditEvent).where(AuditEvent.school_id == school_id, *where.conditions())
    if before_seq is not None:
        query = query.where(AuditEvent.seq < before_seq)
    return list(await session.scalars(query.order_by(AuditEvent.seq.desc()).limit(limit)))


async def verify(session: AsyncSession, school_id: uuid.UUID | None = None) -> list[ChainReport]:
    """Check one school's chain, or every school's (in URN order), from the first event to the last."""
    if school_id is None:
        school_ids = list(await session.scalars(select(School.id).order_by(School.urn)))
    elif await session.scalar(select(School.id).where(School.id == school_id)) is None:
        raise NotFound(f"No school {school_id}.")
    else:
        school_ids = [school_id]
    return [await _verify_school(session, one) for one in school_ids]


async def _verify_school(session: AsyncSession, school_id: uuid.UUID) -> ChainReport:
    """Page through the log by seq so memory stays flat however long it is, then hold the chain against
    the school's last signed checkpoint: its seq must still be there, with the hash the checkpoint names."""
    stored = await last_checkpoint(session, school_id)
    checkpoint: Checkpoint | None = None
    if stored is not None:
        try:
            checkpoint = verify_stored(stored)
        except CheckpointInvalid as exc:
            fault = CheckpointFault(None, f"its last checkpoint (seq {stored.seq}) is not valid: {exc}")
            return ChainReport(school_id, 0, None, None, fault)
    log = AuditLog(session, school_id)
    verifier = ChainVerifier()
    last_seq = 0
    hash_at_checkpoint: str | None = None
    after_seq: int | None = None
    while verifier.broken is None:
        try:
            links = await log.links(after_seq=after_seq, limit=VERIFY_PAGE)
        except (ValueError, TypeError) as exc:  # e.g. text where a timestamp or a uuid belongs (SQLite)
            raise UnreadableEvent(
                f"the authorisation log of school {school_id} has an unreadable event after seq "
                f"{after_seq or 0} ({type(exc).__name__}): it was altered outside the gateway"
            ) from None
        for link in links:
            if verifier.check(link) is not None:
                break
            last_seq = link.seq
            if checkpoint is not None and link.seq == checkpoint.seq:
                hash_at_checkpoint = link.hash
        if len(links) < VERIFY_PAGE:
            break
        after_seq = links[-1].seq
    mismatch = None
    if verifier.broken is None and checkpoint is not None:
        mismatch = _against_checkpoint(checkpoint, last_seq, hash_at_checkpoint)
    return ChainReport(school_id, verifier.checked, verifier.broken, checkpoint, mismatch)


def _against_checkpoint(checkpoint: Checkpoint, last_seq: int, hash_at: str | None) -> CheckpointFault | None:
    signed = checkpoint.signed_at.isoformat().replace("+00:00", "Z")
    if last_seq < checkpoint.seq:
        return CheckpointFault(
            last_seq + 1,
            f"the chain ends at seq {last_seq} but the checkpoint signed {signed} names seq "
            f"{checkpoint.seq}: events {last_seq + 1} to {checkpoint.seq} are missing",
        )
    if checkpoint.seq > 0 and hash_at != checkpoint.hash:
        return CheckpointFault(
            checkpoint.seq,
            f"its hash is not the one the checkpoint signed {signed} names: events up to it were changed",
        )
    return None
