"""A school loaded with pupils on roll and former pupils (tests.support.leavers), in the test's session."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.keys.keyring import Keyring
from gateway.schools.models import School
from tests.support.leavers import load_leavers_school
from tests.support.world import World


@pytest.fixture
async def school(world: World) -> School:
    return await world.school("Leavers Synthetic Academy")


@pytest.fixture
async def loaded(session: AsyncSession, keyring: Keyring, school: School) -> School:
    await load_leavers_school(session, keyring, school)
    return school


@pytest.fixture
async def world_school(world: World) -> School:
    """Another school of the same database."""
    return await world.school("Other Synthetic School")
