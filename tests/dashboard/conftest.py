"""Fixtures of the grants API and dashboard tests (helpers in `tests.dashboard.support`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.keys.keyring import Keyring
from gateway.keys.signing import forget_published_keys
from tests.dashboard.support import Connected, connect
from tests.manage.conftest import keyring
from tests.oauth.conftest import browser, make_party

__all__ = ["browser", "keyring"]


@pytest.fixture(autouse=True)
def fresh_jwks_cache() -> Iterator[None]:
    """Each test's signing keys are rolled back with it: no process cache may carry them over."""
    forget_published_keys()
    yield
    forget_published_keys()


@pytest.fixture
async def connected(session: AsyncSession, keyring: Keyring) -> Connected:
    return await connect(session, await make_party(session, keyring, "head@vale.example.org"))


@pytest.fixture
async def other_connected(session: AsyncSession, keyring: Keyring) -> Connected:
    return await connect(session, await make_party(session, keyring, "office@brook.example.org"))
