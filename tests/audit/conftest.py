"""Two schools per test, so every test can check that one school's log never shows the other's."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.schools.models import School
from gateway.schools.service import create_school

_urns = itertools.count(810001)


async def make_school(session: AsyncSession, name: str) -> School:
    """Committed (to the test's savepoint), so a test that rolls its session back keeps the school."""
    created = await create_school(
        session,
        urn=str(next(_urns)),
        name=name,
        la_code="201",
        establishment_number="4001",
        phase="secondary",
    )
    await session.commit()
    return created


@pytest.fixture
async def school(session: AsyncSession) -> School:
    return await make_school(session, "Audit Vale Academy")


@pytest.fixture
async def other_school(session: AsyncSession) -> School:
    return await make_school(session, "Other Audit School")
