from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from gateway.keys.signing import forget_published_keys


@pytest.fixture(autouse=True)
def fresh_jwks_cache() -> Iterator[None]:
    """The JWKS cache is per process; each test's rolled-back keys must not leak into the next."""
    forget_published_keys()
    yield
    forget_published_keys()


@pytest.fixture
def master_key(master_key_b64: str) -> bytes:
    return base64.b64decode(master_key_b64)
