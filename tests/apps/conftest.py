"""Developers with keys (from tests/developers) and a valid registration body."""

from __future__ import annotations

from typing import Any

import pytest

from tests.developers.conftest import developer, keyring, other_developer

__all__ = ["developer", "keyring", "other_developer"]

APPS = "/developer/v1/apps"


def registration(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Homework Planner",
        "description": "Sets homework for classes.",
        "redirect_uris": ["https://planner.example.com/oauth/callback", "http://127.0.0.1:8765/callback"],
        "required_scopes": "school groups students.basic",
        "optional_scopes": "students.demographics attendance.summaries students.sen",
        "token_endpoint_auth_method": "client_secret_basic",
        "privacy_policy_url": "https://planner.example.com/privacy",
        "support_url": "https://planner.example.com/support",
        "webhook_url": "https://planner.example.com/hooks/gateway",
    }
    body.update(overrides)
    return body


@pytest.fixture
def body() -> dict[str, Any]:
    return registration()
