"""Failed client authentication is throttled on every back-channel endpoint (SPEC §5).

Counted per presented client id and, apart, per client address (`GATEWAY_CLIENT_AUTH_FAILURE_LIMIT`).
Once either is at its limit, requests from it are refused with 429 before any secret is checked: the
right secret does not get through either, until the window passes.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.app import create_app
from gateway.auth.passwords import CHEAP_TEST_PARAMETERS, PasswordHashing
from gateway.db.session import Database
from gateway.keys.keyring import Keyring
from gateway.settings import Settings
from tests.support.backchannel import ISSUER, assert_oauth_error, basic, post_form, register

LIMIT = 3
ENDPOINTS = {
    "/oauth/token": {"grant_type": "client_credentials"},
    "/oauth/revoke": {"token": "gw_rt_not-a-token"},
    "/oauth/introspect": {"token": "gw_rt_not-a-token"},
}


@pytest.fixture
async def strict(
    settings: Settings, test_database: Database, master_key_b64: str
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        settings.model_copy(update={"client_auth_failure_limit": f"{LIMIT}/minute"}),
        database=test_database,
        master_key=base64.b64decode(master_key_b64),
        password_hashing=PasswordHashing(CHEAP_TEST_PARAMETERS),
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
        yield client


@pytest.mark.parametrize("path", list(ENDPOINTS))
async def test_wrong_secrets_for_one_client_end_in_429_even_for_the_right_secret(
    strict: httpx.AsyncClient, session: AsyncSession, keyring: Keyring, path: str
) -> None:
    target = await register(session, keyring)
    assert target.secret is not None
    wrong = basic(target.client_id, "not-the-secret")

    answers = [await post_form(strict, path, ENDPOINTS[path], wrong) for _ in range(LIMIT + 1)]

    assert [answer.status_code for answer in answers] == [401] * LIMIT + [429]
    body = assert_oauth_error(answers[-1], 429, "too_many_requests")
    assert "failed client authentications" in body["error_description"]
    assert 1 <= int(answers[-1].headers["retry-after"]) <= 60
    right = await post_form(strict, path, ENDPOINTS[path], basic(target.client_id, target.secret))
    assert_oauth_error(right, 429, "too_many_requests")


async def test_failures_across_client_ids_from_one_address_are_counted_together(
    strict: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    """Trying many client ids from one address: the address runs out, whichever id comes next."""
    apps = [await register(session, keyring) for _ in range(LIMIT + 1)]
    token = ENDPOINTS["/oauth/token"]

    statuses = [
        (await post_form(strict, "/oauth/token", token, basic(app.client_id, "wrong"))).status_code
        for app in apps[:LIMIT]
    ]
    last = apps[LIMIT]
    assert last.secret is not None
    blocked = await post_form(strict, "/oauth/token", token, basic(last.client_id, last.secret))

    assert statuses == [401] * LIMIT
    assert_oauth_error(blocked, 429, "too_many_requests")


async def test_successes_are_not_counted_and_malformed_credentials_are(
    strict: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    app = await register(session, keyring)
    assert app.secret is not None
    good = basic(app.client_id, app.secret)
    token = ENDPOINTS["/oauth/token"]

    for _ in range(LIMIT + 2):
        assert (await post_form(strict, "/oauth/token", token, good)).status_code == 200
    malformed = {"authorization": "Basic %%%"}
    statuses = [
        (await post_form(strict, "/oauth/token", token, malformed)).status_code for _ in range(LIMIT + 1)
    ]

    assert statuses == [401] * LIMIT + [429]


async def test_the_default_limit_is_generous_for_honest_mistakes(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    """The shipped default (20 a minute) lets a misconfigured app fail a few times and fix itself."""
    app = await register(session, keyring)
    assert app.secret is not None
    token = ENDPOINTS["/oauth/token"]
    for _ in range(5):
        assert (
            await post_form(client, "/oauth/token", token, basic(app.client_id, "typo"))
        ).status_code == 401
    assert (
        await post_form(client, "/oauth/token", token, basic(app.client_id, app.secret))
    ).status_code == 200
