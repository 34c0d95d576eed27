"""Pupil disclosures: tests build on `connected` and `other_connected` (tests/conftest.py): two schools whose
twelve pupils share the same MIS ids (`stu-00000`…), each with an app holding a live grant."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_jwks_cache(fresh_jwks_cache: None) -> None:
    """Every test here runs with `fresh_jwks_cache` (tests/conftest.py)."""
