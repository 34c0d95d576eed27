"""Schools with connector keys, and a client that speaks for one of them."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.keys.keyring import Keyring
from gateway.schools.models import School
from gateway.schools.service import create_school
from tests.support.connector_keys import issue_connector_key

_urns = itertools.count(700001)


async def make_school(session: AsyncSession, name: str) -> School:
    return await create_school(
        session,
        urn=str(next(_urns)),
        name=name,
        la_code="201",
        establishment_number="4001",
        phase="secondary",
    )


@pytest.fixture
async def school(session: AsyncSession) -> School:
    school = await make_school(session, "Synthetic Vale Academy")
    await session.commit()
    return school


@pytest.fixture
async def other_school(session: AsyncSession) -> School:
    school = await make_school(session, "Other Synthetic School")
    await session.commit()
    return school


@pytest.fixture
async def token(session: AsyncSession, keyring: Keyring, school: School) -> str:
    return await issue_connector_key(session, keyring, school)


@pytest.fixture
async def other_token(session: AsyncSession, keyring: Keyring, other_school: School) -> str:
    return await issue_connector_key(session, keyring, other_school)
