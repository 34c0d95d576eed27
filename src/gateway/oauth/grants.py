"""Grants: what a school lets an app see (SPEC §3.3, §3.6). Live means not revoked.

Revoking a grant ends its refresh tokens here and its access tokens at their next use (every protected
request loads the live grant). Each change is an event in the school's authorisation log.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.events import EventType
from gateway.audit.service import record_event
from gateway.oauth.models import Grant, RefreshToken


async def live_grant(session: AsyncSession, school_id: uuid.UUID, app_id: uuid.UUID) -> Grant | None:
    return await session.scalar(
        select(Grant).where(Grant.school_id == school_id, Grant.app_id == app_id, Grant.revoked_at.is_(None))
    )


async def live_grant_by_id(session: AsyncSession, grant_id: uuid.UUID) -> Grant | None:
    return await session.scalar(select(Grant).where(Grant.id == grant_id, Grant.revoked_at.is_(None)))


async def revoke_grant(
    session: AsyncSession,
    grant: Grant,
    *,
    actor: str,
    event_type: EventType = EventType.GRANT_REVOKED,
    now: datetime,
) -> bool:
    """End `grant` (guarded: False if it was already ended) and every refresh token issued under it."""
    ended = await session.execute(
        update(Grant)
        .where(Grant.id == grant.id, Grant.revoked_at.is_(None))
        .values(revoked_at=now, revoked_by=actor, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if not getattr(ended, "rowcount", 0):
        return False
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.grant_id == grant.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(grant)
    await record_event(
        session,
        school_id=grant.school_id,
        event_type=event_type,
        actor=actor,
        details={"grant_id": str(grant.id), "app_id": str(grant.app_id)},
        occurred_at=now,
    )
    return True
