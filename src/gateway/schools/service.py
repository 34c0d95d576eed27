"""Creating and finding schools (the tenants)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

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
