"""`grant_type=client_credentials` (RFC 6749 §4.4) and the per-client rate limit on `/oauth/token`."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.app import create_app
from gateway.apps.models import AuthMethod
from gateway.auth.passwords import CHEAP_TEST_PARAMETERS, PasswordHashing
from gateway.db.base import utcnow
from gateway.db.session import Database
from gateway.keys.keyring import Keyring
from gateway.keys.signing import rotate_signing_key, verification_keys
from gateway.settings import Settings
from gateway.tokens import signing_key
from gateway.tokens.access_tokens import verify_access_token
from tests.support.backchannel import ISSUER, assert_oauth_error, basic, jwt_header, post_form, register

CLIENT_CREDENTIALS = {"grant_type": "client_credentials"}


async def test_a_confidential_client_gets_an_app_level_token(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    app = await register(session, keyring, AuthMethod.CLIENT_SECRET_BASIC)
    assert app.secret is not None

    response = await post_form(client, "/oauth/token", CLIENT_CREDENTIALS, basic(app.client_id, app.secret))

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}  # no refresh token
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 900, "school")
    now = utcnow()
    claims = verify_access_token(
        body["access_token"],
        await verification_keys(session, now=now, kid=None),
        issuer=ISSUER,
        audience=f"{ISSUER}/api/v1",
        now=now,
    )
    assert claims.subject == app.client_id
    assert claims.client_id == app.client_id
    assert claims.school_id is None
    assert claims.grant_id is None
    assert claims.scopes == ("school",)


@pytest.mark.parametrize("scope", ["school", None])
async def test_scope_school_may_be_asked_for(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring, scope: str | None
) -> None:
    app = await register(session, keyring, AuthMethod.CLIENT_SECRET_POST)
    assert app.secret is not None
    form = {**CLIENT_CREDENTIALS, "client_id": app.client_id, "client_secret": app.secret}
    if scope is not None:
        form["scope"] = scope
    response = await post_form(client, "/oauth/token", form)
    assert response.json()["scope"] == "school"


@pytest.mark.parametrize("scope", ["school students.basic", "students.basic", "admin", "school\tgroups"])
async def test_other_scopes_are_refused(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring, scope: str
) -> None:
    app = await register(session, keyring, AuthMethod.CLIENT_SECRET_BASIC)
    assert app.secret is not None
    form = {**CLIENT_CREDENTIALS, "scope": scope}
    response = await post_form(client, "/oauth/token", form, basic(app.client_id, app.secret))
    assert response.status_code == 400
    assert response.json()["error"] in {"invalid_scope", "invalid_request"}


async def test_a_public_client_may_not_use_client_credentials(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    public = await register(session, keyring, AuthMethod.NONE)
    response = await post_form(client, "/oauth/token", {**CLIENT_CREDENTIALS, "client_id": public.client_id})
    assert_oauth_error(response, 400, "unauthorized_client")


async def test_a_rotated_signing_key_is_used_within_the_recheck_bound(
    client: httpx.AsyncClient,
    app: FastAPI,
    session: AsyncSession,
    keyring: Keyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registered = await register(session, keyring, AuthMethod.CLIENT_SECRET_BASIC)
    assert registered.secret is not None
    headers = basic(registered.client_id, registered.secret)
    before = (await post_form(client, "/oauth/token", CLIENT_CREDENTIALS, headers)).json()["access_token"]
    new_key = await rotate_signing_key(session, app.state.keyring.master_key, now=utcnow())
    await session.commit()
    monkeypatch.setattr(signing_key, "RECHECK_SECONDS", 0.0)

    after = (await post_form(client, "/oauth/token", CLIENT_CREDENTIALS, headers)).json()["access_token"]

    assert jwt_header(before)["kid"] != new_key.kid
    assert jwt_header(after)["kid"] == new_key.kid


@pytest.fixture
async def tight_client(
    settings: Settings, test_database: Database, master_key_b64: str
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        settings.model_copy(update={"token_rate_limit": "3/minute"}),
        database=test_database,
        master_key=base64.b64decode(master_key_b64),
        password_hashing=PasswordHashing(CHEAP_TEST_PARAMETERS),
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
        yield client


async def test_token_requests_are_rate_limited_per_client(
    tight_client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    limited, other = await register(session, keyring), await register(session, keyring)
    assert limited.secret is not None
    assert other.secret is not None
    headers = basic(limited.client_id, limited.secret)

    answers = [await post_form(tight_client, "/oauth/token", CLIENT_CREDENTIALS, headers) for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    body = assert_oauth_error(answers[3], 429, "too_many_requests")
    assert "Try again" in body["error_description"]
    assert 1 <= int(answers[3].headers["retry-after"]) <= 60
    # Another client has its own allowance.
    fine = await post_form(
        tight_client, "/oauth/token", CLIENT_CREDENTIALS, basic(other.client_id, other.secret)
    )
    assert fine.status_code == 200


async def test_failed_authentication_does_not_spend_a_clients_allowance(
    tight_client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    from gateway.apps.credentials import new_client_secret

    app = await register(session, keyring)
    assert app.secret is not None
    for _ in range(5):
        wrong = await post_form(
            tight_client, "/oauth/token", CLIENT_CREDENTIALS, basic(app.client_id, new_client_secret())
        )
        assert wrong.status_code == 401
    right = await post_form(
        tight_client, "/oauth/token", CLIENT_CREDENTIALS, basic(app.client_id, app.secret)
    )
    assert right.status_code == 200
