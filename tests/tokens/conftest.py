from __future__ import annotations

import base64

import pytest


@pytest.fixture(autouse=True)
def _fresh_jwks_cache(fresh_jwks_cache: None) -> None:
    """Every test here runs with `fresh_jwks_cache` (tests/conftest.py)."""


@pytest.fixture
def master_key(master_key_b64: str) -> bytes:
    return base64.b64decode(master_key_b64)
