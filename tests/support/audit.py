"""A school's authorisation log, read back for assertions."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.models import AuditEvent
from tests.support.accounts import Account


async def audit_trail(session: AsyncSession, owner: Account) -> list[tuple[str, str, dict[str, object]]]:
    """The school's events as (type, actor, details), in chain order."""
    rows = await session.execute(
        select(AuditEvent.event_type, AuditEvent.actor, AuditEvent.details)
        .where(AuditEvent.school_id == owner.school.id)
        .order_by(AuditEvent.seq)
    )
    return [(kind, actor, json.loads(details)) for kind, actor, details in rows]


async def events_of(
    session: AsyncSession, school_id: uuid.UUID, kind: str
) -> list[tuple[str, dict[str, object]]]:
    rows = await session.execute(
        select(AuditEvent.actor, AuditEvent.details)
        .where(AuditEvent.school_id == school_id, AuditEvent.event_type == kind)
        .order_by(AuditEvent.seq)
    )
    return [(actor, json.loads(details)) for actor, details in rows]


async def family_events(session: AsyncSession, school_id: Any) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(AuditEvent)
        .where(AuditEvent.school_id == school_id, AuditEvent.event_type == "token_family.revoked")
        .order_by(AuditEvent.seq)
    )
    return [{"actor": row.actor, **json.loads(row.details)} for row in rows]
