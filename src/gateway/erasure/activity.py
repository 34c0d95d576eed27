"""A school's last sign of life, for the 12-month `inactive` rule, and the warning a month before.

Activity is any of: a connector request (its key's `last_used_at`) or a full sync started, a data API
response recorded for the school, an admin signing in. The school's creation counts as activity, so a
school set up and never used is not purged before it had a year. A school purged as a whole since its
last activity has nothing left for the rule, and is not purged again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.access_log.models import DataAccess
from gateway.accounts.models import Admin
from gateway.audit.events import EventType
from gateway.audit.service import record_event
from gateway.connector.models import ConnectorKey
from gateway.email.outbox import enqueue as enqueue_mail
from gateway.erasure.clock import day_in_england
from gateway.erasure.models import InactivityWarning, PurgeRecord
from gateway.mis.models import SyncRun
from gateway.retention import INACTIVE
from gateway.schools.models import School


@dataclass(frozen=True, slots=True)
class Inactivity:
    school: School
    last_activity_on: date
    warning_on: date
    due_on: date
    warned: bool


async def last_activity(session: AsyncSession, school: School) -> datetime:
    """The latest moment the school showed activity (see the module's docstring)."""
    latest = (
        select(func.max(ConnectorKey.last_used_at)).where(ConnectorKey.school_id == school.id),
        select(func.max(SyncRun.started_at)).where(SyncRun.school_id == school.id),
        select(func.max(DataAccess.occurred_at)).where(DataAccess.school_id == school.id),
        select(func.max(Admin.last_login_at)).where(Admin.school_id == school.id),
    )
    candidates = (await session.execute(select(*(query.scalar_subquery() for query in latest)))).one()
    moments: list[datetime] = [school.created_at, *(moment for moment in candidates if moment is not None)]
    return max(moments)


async def _purged_as_a_whole_since(session: AsyncSession, school_id: uuid.UUID, moment: datetime) -> bool:
    latest = await session.scalar(
        select(func.max(PurgeRecord.purged_at)).where(
            PurgeRecord.school_id == school_id, PurgeRecord.scope == "school"
        )
    )
    return latest is not None and latest >= moment


async def inactivity(session: AsyncSession, school: School) -> Inactivity | None:
    """When the current stretch without activity warns and ends in a purge; None if already purged."""
    moment = await last_activity(session, school)
    if await _purged_as_a_whole_since(session, school.id, moment):
        return None
    day = day_in_england(moment)
    warned = await session.scalar(
        select(InactivityWarning.school_id).where(
            InactivityWarning.school_id == school.id, InactivityWarning.last_activity_on == day
        )
    )
    return Inactivity(school, day, INACTIVE.warning_on(day), INACTIVE.due(day), warned is not None)


WARNING_SUBJECT = "Your school's data will be deleted in a month unless it is used"


def warning_body(found: Inactivity, issuer: str) -> str:
    school = found.school
    return (
        f"The gateway has seen no activity for {school.name} (URN {school.urn}) since "
        f"{found.last_activity_on:%-d %B %Y}: no admin has signed in, its MIS has not synced and no app has "
        f"read its data.\n\nUnder the retention rules, 12 months without activity end in the deletion of "
        f"the school's data: it will be deleted on {found.due_on:%A %-d %B %Y}.\n\n"
        f"To keep it, sign in to the dashboard before then: {issuer}/dashboard\n"
    )


async def warn_admins(
    session: AsyncSession, found: Inactivity, *, issuer: str, actor: str, now: datetime
) -> int:
    """Email every enabled admin once for this stretch (`retention.warned`); how many were emailed."""
    if found.warned:
        return 0
    school = found.school
    admins = list(
        await session.scalars(
            select(Admin)
            .where(Admin.school_id == school.id, Admin.disabled_at.is_(None))
            .order_by(Admin.email)
        )
    )
    body = warning_body(found, issuer)
    for admin in admins:
        await enqueue_mail(session, to=admin.email, subject=WARNING_SUBJECT, body=body)
    await session.merge(
        InactivityWarning(
            school_id=school.id, last_activity_on=found.last_activity_on, warned_at=now, due_on=found.due_on
        )
    )
    await session.flush()
    await record_event(
        session,
        school_id=school.id,
        event_type=EventType.INACTIVITY_WARNED,
        actor=actor,
        details={
            "last_activity_on": found.last_activity_on.isoformat(),
            "due_on": found.due_on.isoformat(),
            "admins_emailed": len(admins),
        },
        occurred_at=now,
    )
    return len(admins)
