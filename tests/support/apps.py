"""Apps: a valid registration body (as JSON and as a draft), and the token endpoint's verdict on a secret."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.models import App, AuthMethod
from gateway.apps.validation import AppDraft
from gateway.db.base import utcnow
from gateway.keys.keyring import Keyring
from gateway.oauth import client_auth
from gateway.oauth.client_auth import PresentedCredentials
from gateway.oauth.errors import InvalidClient

APPS = "/developer/v1/apps"
REDIRECT_URI = "https://planner.example.com/oauth/callback"
LOOPBACK_REDIRECT = "http://127.0.0.1:8765/callback"


def registration(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Homework Planner",
        "description": "Sets homework for classes.",
        "redirect_uris": [REDIRECT_URI, LOOPBACK_REDIRECT],
        "required_scopes": "school groups students.basic",
        "optional_scopes": "students.demographics attendance.summaries students.sen",
        "token_endpoint_auth_method": "client_secret_basic",
        "privacy_policy_url": "https://planner.example.com/privacy",
        "support_url": "https://planner.example.com/support",
        "webhook_url": "https://planner.example.com/hooks/gateway",
    }
    body.update(overrides)
    return body


def draft(**changes: Any) -> AppDraft:
    """The registration body (two redirect URIs, all three kinds of scope), as a draft."""
    values = registration(webhook_url=None)
    values["redirect_uris"] = tuple(values["redirect_uris"])
    values["token_endpoint_auth_method"] = AuthMethod(values["token_endpoint_auth_method"])
    values.update(changes)
    return AppDraft(**values)


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
