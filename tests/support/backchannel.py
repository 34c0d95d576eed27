"""Helpers for the back-channel tests (`/oauth/token`, `/revoke`, `/introspect`, metadata).

Grants and codes are made directly in the database (a Grant row and `codes.issue_code`), so these
tests do not depend on the consent pages. Everything is committed inside the test's outer transaction.
"""

from __future__ import annotations

import base64
import itertools
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus, urlencode

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps import service as apps
from gateway.apps.models import App, AuthMethod
from gateway.consent.models import Grant
from gateway.db.base import utcnow
from gateway.developers import service as developers
from gateway.keys.keyring import Keyring
from gateway.oauth.client_auth import AuthenticatedClient
from gateway.schools.models import School
from gateway.schools.service import create_school
from gateway.tokens import codes
from gateway.tokens.models import IssuedAccessToken, RefreshToken
from gateway.tokens.refresh import find_refresh_token
from tests.support.apps import REDIRECT_URI, draft
from tests.support.http import FORM, TEST_ISSUER
from tests.support.pkce import Pkce

ISSUER = TEST_ISSUER  # what the `app` fixture's settings say
SCOPES = "school groups students.basic"
_numbers = itertools.count(1)


@dataclass
class Registered:
    """An app as its developer knows it: the row and, for a confidential client, the secret."""

    app: App
    secret: str | None

    @property
    def client_id(self) -> str:
        return self.app.client_id

    @property
    def method(self) -> AuthMethod:
        return self.app.auth_method

    def credentials(self) -> tuple[dict[str, str], dict[str, str]]:
        """(headers, form fields) that authenticate this app the way it registered."""
        if self.method is AuthMethod.CLIENT_SECRET_BASIC:
            assert self.secret is not None
            return basic(self.client_id, self.secret), {}
        if self.method is AuthMethod.CLIENT_SECRET_POST:
            assert self.secret is not None
            return {}, {"client_id": self.client_id, "client_secret": self.secret}
        return {}, {"client_id": self.client_id}

    def authenticated(self) -> AuthenticatedClient:
        return AuthenticatedClient(self.app, self.method)


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"authorization": "Basic " + base64.b64encode(raw).decode()}


async def register(
    session: AsyncSession, keyring: Keyring, method: AuthMethod = AuthMethod.CLIENT_SECRET_BASIC
) -> Registered:
    number = next(_numbers)
    developer, _row, _key = await developers.create_developer(
        session, keyring, name=f"Synthetic Apps {number}", email=f"dev{number}@synthetic-apps.example.org"
    )
    app, secret, _webhook_secret = await apps.register(
        session, keyring, developer.id, draft(token_endpoint_auth_method=method)
    )
    await session.commit()
    return Registered(app, secret)


async def make_school(session: AsyncSession) -> School:
    school = await create_school(
        session,
        urn=str(900000 + next(_numbers)),
        name="Synthetic Vale Academy",
        la_code="201",
        establishment_number="4001",
        phase="secondary",
    )
    await session.commit()
    return school


async def make_grant(session: AsyncSession, app: App, school: School, scopes: str = SCOPES) -> Grant:
    grant = Grant(school_id=school.id, app_id=app.id, scopes=scopes)
    session.add(grant)
    await session.commit()
    return grant


async def make_code(
    session: AsyncSession,
    app: App,
    grant: Grant,
    pkce: Pkce,
    *,
    redirect_uri: str = REDIRECT_URI,
    scopes: str = SCOPES,
    now: datetime | None = None,
) -> str:
    code = await codes.issue_code(
        session,
        app_id=app.id,
        grant_id=grant.id,
        school_id=grant.school_id,
        redirect_uri=redirect_uri,
        code_challenge=pkce.challenge,
        scopes=scopes.split(),
        now=now or utcnow(),
    )
    await session.commit()
    return code


@dataclass
class Connected:
    """An app with a live grant from a school, ready to ask for tokens."""

    registered: Registered
    school: School
    grant: Grant


async def connect(
    session: AsyncSession,
    keyring: Keyring,
    method: AuthMethod = AuthMethod.CLIENT_SECRET_BASIC,
    *,
    scopes: str = SCOPES,
) -> Connected:
    registered = await register(session, keyring, method)
    school = await make_school(session)
    return Connected(registered, school, await make_grant(session, registered.app, school, scopes))


async def post_form(
    client: httpx.AsyncClient,
    path: str,
    form: Mapping[str, str] | Sequence[tuple[str, str]],
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    return await client.post(path, content=urlencode(form), headers={**FORM, **(headers or {})})


async def token_request(
    client: httpx.AsyncClient, registered: Registered, form: Mapping[str, str]
) -> httpx.Response:
    """POST /oauth/token authenticated as `registered` registered to."""
    headers, credentials = registered.credentials()
    return await post_form(client, "/oauth/token", {**form, **credentials}, headers)


async def exchange(
    client: httpx.AsyncClient, connected: Connected, session: AsyncSession, pkce: Pkce | None = None
) -> dict[str, Any]:
    """A fresh code for the connection, exchanged over HTTP; the token response's JSON."""
    pkce = pkce or Pkce()
    code = await make_code(session, connected.registered.app, connected.grant, pkce)
    response = await token_request(
        client,
        connected.registered,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": pkce.verifier,
        },
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_oauth_error(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    """An RFC 6749 §5.2 error: the status, JSON with `error`, and no caching."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    assert body["error"] == error, body
    assert isinstance(body.get("error_description"), str)
    assert all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in body["error_description"]), body
    return body


def _json_part(token: str, index: int) -> dict[str, Any]:
    part = token.split(".")[index]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified (for asserting on what a response carried)."""
    return _json_part(token, 1)


def jwt_header(token: str) -> dict[str, Any]:
    return _json_part(token, 0)


async def family_id(session: AsyncSession, refresh_token: str) -> uuid.UUID:
    """The family (code id) a refresh token belongs to."""
    row = await find_refresh_token(session, refresh_token)
    assert row is not None
    return row.family_id


async def refresh_rows(session: AsyncSession, family_id: Any) -> list[RefreshToken]:
    query = select(RefreshToken).where(RefreshToken.family_id == family_id).order_by(RefreshToken.created_at)
    return list(await session.scalars(query.execution_options(populate_existing=True)))


async def access_rows(session: AsyncSession, family_id: Any) -> list[IssuedAccessToken]:
    query = select(IssuedAccessToken).where(IssuedAccessToken.family_id == family_id)
    return list(await session.scalars(query.execution_options(populate_existing=True)))
