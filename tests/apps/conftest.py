"""Developers with keys (from tests/developers), a valid registration body, and the token endpoint's
verdict on a client secret."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.models import App, AuthMethod
from gateway.db.base import utcnow
from gateway.keys.keyring import Keyring
from gateway.oauth import client_auth
from gateway.oauth.client_auth import PresentedCredentials
from gateway.oauth.errors import InvalidClient
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


async def secret_accepted(
    session: AsyncSession, keyring: Keyring, app: App, secret: str, *, method: AuthMethod | None = None
) -> bool:
    """Does the token endpoint's client authentication accept `secret` for `app` now?

    Sent the way the app registered, or by `method`; `client_auth.authenticate` either returns the app or
    raises `InvalidClient`.
    """
    presented = PresentedCredentials(app.client_id, secret, method or app.auth_method)
    try:
        client = await client_auth.authenticate(session, keyring, presented, now=utcnow())
    except InvalidClient:
        return False
    assert client.app.id == app.id
    return True
