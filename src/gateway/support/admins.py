"""`gateway admin add` with the school's leave (SPEC §3.9): the operator cannot make themselves an admin of a
school that has one.

A school with no active admin (being onboarded) gets its first admin as before. A school with one needs a
live support approval for the purpose `add_admin`, spent by this one addition; or, when its admins can no
longer sign in, a break-glass addition with a reason, recorded as a request nobody approved
(`admin.break_glass`) and announced to every admin, disabled and locked ones included, and to the
school's data protection contacts.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.accounts import service as accounts
from gateway.accounts.models import Admin
from gateway.audit import events
from gateway.audit.events import EventType
from gateway.audit.service import record_event
from gateway.errors import InvalidInput
from gateway.schools.models import School
from gateway.schools.settings import settings_of
from gateway.support.models import SupportRequest
from gateway.support.notices import announce_break_glass
from gateway.support.requests import RequestNotLive, check_request, live_request, use_once


async def add_admin_with_leave(
    session: AsyncSession,
    school: School,
    email: str,
    *,
    issuer: str,
    operator: str,
    request_id: uuid.UUID | None,
    break_glass_reason: str | None,
    now: datetime,
) -> tuple[Admin, str]:
    """The new admin and their setup link (see the module's docstring)."""
    if request_id is not None and break_glass_reason is not None:
        raise InvalidInput("Give a support request or break glass, not both.")
    if not await accounts.active_admins(session, school):
        return await accounts.add_admin(session, school, email, issuer=issuer, actor=events.OPERATOR)
    if break_glass_reason is not None:
        check_request(operator, break_glass_reason, (), 1, "add_admin")
        row = SupportRequest(
            school_id=school.id,
            operator=operator,
            purpose="add_admin",
            reason=break_glass_reason.strip(),
            resources="",
            hours=1,
            requested_at=now,
            break_glass=True,
            used_at=now,
        )
        session.add(row)
        await session.flush()
        admin, link = await accounts.add_admin(
            session, school, email, issuer=issuer, actor=events.OPERATOR, because={"request_id": str(row.id)}
        )
        await record_event(
            session,
            school_id=school.id,
            event_type=EventType.ADMIN_BREAK_GLASS,
            actor=events.OPERATOR,
            details={"request_id": str(row.id), "admin_id": str(admin.id)},
            occurred_at=now,
        )
        dpo = (await settings_of(session, school.id)).dpo_email
        await announce_break_glass(
            session, school, added=admin.email, reason=row.reason, extra=[dpo] if dpo else []
        )
        return admin, link
    if request_id is None:
        raise RequestNotLive(
            "This school has admins: adding one needs their leave, a live support approval for "
            "`add_admin` (gateway support request --purpose add_admin, then --request ID), or --break-glass "
            "with a reason when none of them can sign in."
        )
    approval = await live_request(session, request_id, purpose="add_admin", now=now)
    if approval.school_id != school.id:
        raise RequestNotLive("That approval is for another school.")
    await use_once(session, approval, now=now)
    return await accounts.add_admin(
        session, school, email, issuer=issuer, actor=events.OPERATOR, because={"request_id": str(approval.id)}
    )
