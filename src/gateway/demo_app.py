"""The demo's app developer and registered app, and the credentials file (SPEC §9).

The app asks for the three kinds of scope the consent page must show: required
(`school groups students.basic`), optional (`students.demographics attendance.summaries`) and an
optional sensitive one (`students.sen`). Each run issues a fresh developer key, client secret and webhook
secret (the sample app at `examples/sample_app` receives webhooks at `WEBHOOK_URL`); the client id stays
the same, so nothing is duplicated.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps import service as apps
from gateway.apps.models import AuthMethod
from gateway.apps.validation import AppDraft
from gateway.db.base import utcnow
from gateway.developers import service as developers
from gateway.developers.models import Developer
from gateway.keys.keyring import Keyring
from gateway.webhooks import secrets as webhook_secrets

DEVELOPER_EMAIL = "developer@demo-app.example.org"
APP_NAME = "Demo homework planner"
REDIRECT_URI = "http://127.0.0.1:8765/callback"
WEBHOOK_URL = "http://127.0.0.1:8765/webhooks"  # the sample app's receiver (examples/sample_app)
REQUIRED_SCOPES = "school groups students.basic"
OPTIONAL_SCOPES = "students.demographics attendance.summaries students.sen"


@dataclass(frozen=True)
class DemoApp:
    developer_key: str
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    required_scopes: str
    optional_scopes: str
    webhook_url: str
    webhook_secret: str


def demo_draft(base_url: str) -> AppDraft:
    return AppDraft(
        name=APP_NAME,
        description="A synthetic app for trying the gateway: it plans homework from timetables and groups.",
        redirect_uris=(REDIRECT_URI,),
        required_scopes=REQUIRED_SCOPES,
        optional_scopes=OPTIONAL_SCOPES,
        token_endpoint_auth_method=AuthMethod.CLIENT_SECRET_BASIC,
        privacy_policy_url=f"{base_url}/docs",
        support_url=f"{base_url}/docs",
        webhook_url=WEBHOOK_URL,
    )


async def demo_app(session: AsyncSession, keyring: Keyring, base_url: str) -> DemoApp:
    developer = await session.scalar(select(Developer).where(Developer.email == DEVELOPER_EMAIL))
    if developer is None:
        developer, _row, key = await developers.create_developer(
            session, keyring, name="Demo App Ltd", email=DEVELOPER_EMAIL
        )
    else:
        _row, key = await developers.replace_keys(session, keyring, developer)
    existing = [app for app in await apps.list_apps(session, developer.id) if app.name == APP_NAME]
    if existing:
        app, secret = await apps.rotate_secret(session, keyring, developer.id, existing[0].client_id)
        app.webhook_url = WEBHOOK_URL
        webhook_secret = await webhook_secrets.rotate(session, keyring, app.id, utcnow())
    else:
        app, new_secret, webhook_secret = await apps.register(
            session, keyring, developer.id, demo_draft(base_url), webhook_loopback_http=True
        )
        assert new_secret is not None  # a confidential client
        secret = new_secret
    return DemoApp(
        key,
        app.client_id,
        secret,
        [REDIRECT_URI],
        REQUIRED_SCOPES,
        OPTIONAL_SCOPES,
        WEBHOOK_URL,
        webhook_secret,
    )


@dataclass(frozen=True)
class ReadyAuthorization:
    """An authorize URL to open in a browser, and the PKCE verifier to exchange its code with."""

    url: str
    code_verifier: str


def ready_authorization(base_url: str, app: DemoApp, school_id: str) -> ReadyAuthorization:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": app.redirect_uris[0],
        "scope": f"{app.required_scopes} {app.optional_scopes}",
        "state": secrets.token_urlsafe(12),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "school_id": school_id,
    }
    return ReadyAuthorization(f"{base_url}/oauth/authorize?{urlencode(query)}", verifier)


def credentials(
    issuer: str, school_id: str, admin_email: str, admin_password: str, app: DemoApp
) -> dict[str, Any]:
    """The credentials file's content: the keys outside tools rely on (SPEC §9)."""
    return {
        "issuer": issuer,
        "school_id": school_id,
        "admin": {"email": admin_email, "password": admin_password},
        "developer_key": app.developer_key,
        "app": {
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "redirect_uris": app.redirect_uris,
            "required_scopes": app.required_scopes,
            "optional_scopes": app.optional_scopes,
            "webhook_url": app.webhook_url,
            "webhook_secret": app.webhook_secret,
        },
    }


def write_credentials(path: Path, content: dict[str, Any]) -> None:
    """Mode 0600 from the first byte: the file holds passwords and secrets."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(content, handle, indent=2)
        handle.write("\n")
    temporary.chmod(0o600)
    temporary.replace(path)
