from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_jwks_cache(fresh_jwks_cache: None) -> None:
    """Every test here runs with `fresh_jwks_cache` (tests/conftest.py)."""
