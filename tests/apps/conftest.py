"""A valid registration body (helpers in tests/support/apps.py; developers are tests/conftest.py's)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.apps import registration


@pytest.fixture
def body() -> dict[str, Any]:
    return registration()
