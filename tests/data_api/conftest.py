"""A synthetic school loaded through the connector's write path, with an app connected to it (helpers and
the oracle in tests/support/data_api.py). `connected` here is the data API's, not tests/conftest.py's."""

from __future__ import annotations

import pytest

from tests.support.data_api import Connected, connect, load_school
from tests.support.world import World


@pytest.fixture(autouse=True)
def _fresh_jwks_cache(fresh_jwks_cache: None) -> None:
    """Every test here runs with `fresh_jwks_cache` (tests/conftest.py)."""


@pytest.fixture
async def connected(world: World) -> Connected:
    school = await load_school(world.session, world.keyring, 7)
    return await connect(world, school, 7)
