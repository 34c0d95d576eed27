"""Scheduling a whole school's purge: the MIS connector deleted, or deletion asked for (SPEC §3.8).

Both start the 5-working-day clock of `gateway.retention` on the day in England they happen, and are
events in the school's log. Deleting the connector revokes every connector key at once, so the MIS can
no longer sync, and cannot be undone: the school asked for its MIS data to go. A deletion request can be
cancelled until it has run. Asking twice answers the pending one; nothing is scheduled twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.events import EventType
from gateway.audit.service import record_event
from gateway.connector.models import ConnectorKey
from gateway.db.guarded import changed_rows
from gateway.erasure.clock import day_in_england
from gateway.erasure.models import SchoolDeletion
from gateway.errors import NotFound
from gateway.retention import CONNECTOR_DELETED, DELETION_REQUESTED, WorkingDaysRule
from gateway.schools.models import School


async def pending_deletions(session: AsyncSession, school_id: uuid.UUID) -> list[SchoolDeletion]:
    """The school's scheduled purges that have neither run nor been cancelled, soonest first."""
    rows = await session.scalars(
        select(SchoolDeletion)
        .where(
            SchoolDeletion.school_id == school_id,
            SchoolDeletion.cancelled_at.is_(None),
            SchoolDeletion.purged_at.is_(None),
        )
        .order_by(SchoolDeletion.due_on, SchoolDeletion.requested_at)
    )
    return list(rows)


async def _schedule(
    session: AsyncSession, school: School, rule: WorkingDaysRule, *, actor: str, now: datetime
) -> tuple[SchoolDeletion, bool]:
    """The pending deletion under `rule`, created if there is none; and whether it was created."""
    for pending in await pending_deletions(session, school.id):
        if pending.rule == rule.name:
            return pending, False
    today = day_in_england(now)
    deletion = SchoolDeletion(
        school_id=school.id,
        rule=rule.name,
        actor=actor,
        requested_at=now,
        requested_on=today,
        due_on=rule.due(today),
    )
    session.add(deletion)
    await session.flush()
    return deletion, True


async def delete_connector(
    session: AsyncSession, school: School, *, actor: str, now: datetime
) -> SchoolDeletion:
    """Revoke every connector key of the school (its MIS can no longer sync) and schedule the purge of its
    data: `connector.deleted`, with each key revoked as `connector_key.revoked`."""
    live = list(
        await session.scalars(
            select(ConnectorKey)
            .where(ConnectorKey.school_id == school.id, ConnectorKey.revoked_at.is_(None))
            .order_by(ConnectorKey.created_at)
            .with_for_update()
        )
    )
    for key in live:
        key.revoked_at = now
        await session.flush()
        await record_event(
            session,
            school_id=school.id,
            event_type=EventType.CONNECTOR_KEY_REVOKED,
            actor=actor,
            details={"prefix": key.prefix, "reason": "connector_deleted"},
            occurred_at=now,
        )
    deletion, created = await _schedule(session, school, CONNECTOR_DELETED, actor=actor, now=now)
    if created or live:
        await record_event(
            session,
            school_id=school.id,
            event_type=EventType.CONNECTOR_DELETED,
            actor=actor,
            details={
                "deletion_id": str(deletion.id),
                "due_on": deletion.due_on.isoformat(),
                "keys_revoked": len(live),
            },
            occurred_at=now,
        )
    return deletion


async def request_deletion(
    session: AsyncSession, school: School, *, actor: str, now: datetime
) -> SchoolDeletion:
    """Schedule the purge of the school's data (`deletion.requested`); the pending one if asked again."""
    deletion, created = await _schedule(session, school, DELETION_REQUESTED, actor=actor, now=now)
    if created:
        await record_event(
            session,
            school_id=school.id,
            event_type=EventType.DELETION_REQUESTED,
            actor=actor,
            details={"deletion_id": str(deletion.id), "due_on": deletion.due_on.isoformat()},
            occurred_at=now,
        )
    return deletion


async def cancel_deletion(
    session: AsyncSession, school: School, *, actor: str, now: datetime
) -> SchoolDeletion:
    """Withdraw the school's pending deletion request (`deletion.cancelled`). A connector deletion cannot be
    withdrawn; NotFound when there is no pending request (it ran, or was never made)."""
    for pending in await pending_deletions(session, school.id):
        if pending.rule != DELETION_REQUESTED.name:
            continue
        cancelled = await changed_rows(
            session,
            update(SchoolDeletion)
            .where(
                SchoolDeletion.id == pending.id,
                SchoolDeletion.cancelled_at.is_(None),
                SchoolDeletion.purged_at.is_(None),
            )
            .values(cancelled_at=now, cancelled_by=actor),
        )
        if cancelled:
            await session.refresh(pending)
            await record_event(
                session,
                school_id=school.id,
                event_type=EventType.DELETION_CANCELLED,
                actor=actor,
                details={"deletion_id": str(pending.id)},
                occurred_at=now,
            )
            return pending
    raise NotFound("There is no pending deletion request to cancel.")


async def connector_deleted(session: AsyncSession, school_id: uuid.UUID) -> bool:
    """Whether the school's connector was deleted and its data is waiting to be purged (no new keys then)."""
    return any(row.rule == CONNECTOR_DELETED.name for row in await pending_deletions(session, school_id))


async def deletions_of(
    session: AsyncSession, school_id: uuid.UUID, *, limit: int = 100
) -> list[SchoolDeletion]:
    """The school's scheduled deletions, pending or not, newest first (at most `limit`)."""
    rows = await session.scalars(
        select(SchoolDeletion)
        .where(SchoolDeletion.school_id == school_id)
        .order_by(SchoolDeletion.requested_at.desc(), SchoolDeletion.id)
        .limit(limit)
    )
    return list(rows)
