"""Creating and finding schools (the tenants)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.events import EventType
from gateway.audit.service import record_event
from gateway.errors import Conflict, NotFound
from gateway.schools.models import School


async def create_school(
    session: AsyncSession, *, urn: str, name: str, la_code: str, establishment_number: str, phase: str
) -> School:
    if await session.scalar(select(School.id).where(School.urn == urn)) is not None:
        raise Conflict(f"A school with URN {urn} already exists.")
    school = School(
        urn=urn, name=name, la_code=la_code, establishment_number=establishment_number, phase=phase
    )
    session.add(school)
    await session.flush()
    return school


async def open_school(
    session: AsyncSession,
    *,
    actor: str,
    urn: str,
    name: str,
    la_code: str,
    establishment_number: str,
    phase: str,
) -> School:
    """A new school whose authorisation log starts with who created it (`school.created`)."""
    school = await create_school(
        session, urn=urn, name=name, la_code=la_code, establishment_number=establishment_number, phase=phase
    )
    await record_event(
        session, school_id=school.id, event_type=EventType.SCHOOL_CREATED, actor=actor, details={"urn": urn}
    )
    return school


async def require_totp(session: AsyncSession, school: School, required: bool, *, actor: str) -> None:
    """Require (or stop requiring) a second factor of every admin; a change is an event in the log."""
    if school.require_totp == required:
        return
    school.require_totp = required
    await session.flush()
    await record_event(
        session,
        school_id=school.id,
        event_type=EventType.SCHOOL_SETTINGS_CHANGED,
        actor=actor,
        details={"require_totp": required},
    )


async def find_school(session: AsyncSession, reference: str) -> School:
    """A school by id or by URN, as operators type them."""
    query = select(School)
    try:
        query = query.where(School.id == uuid.UUID(reference))
    except ValueError:
        query = query.where(School.urn == reference)
    school = await session.scalar(query)
    if school is None:
        raise NotFound(f"No school {reference}.")
    return school
