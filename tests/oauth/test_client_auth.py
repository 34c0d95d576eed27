"""Client authentication at the token endpoint (RFC 6749 §2.3, §3.2.1, §5.2)."""

from __future__ import annotations

import base64
import time

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.credentials import new_client_id, new_client_secret
from gateway.apps.models import AuthMethod
from gateway.keys.keyring import Keyring
from gateway.oauth import client_auth
from gateway.oauth.errors import InvalidClient, InvalidRequest
from tests.support.backchannel import Registered, assert_oauth_error, basic, post_form, register
from tests.support.http import FORM

CLIENT_CREDENTIALS = {"grant_type": "client_credentials"}


def assert_basic_challenge(response: httpx.Response) -> None:
    assert response.headers["www-authenticate"] == 'Basic realm="gateway"'


async def test_client_secret_basic_works(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    app = await register(session, keyring, AuthMethod.CLIENT_SECRET_BASIC)
    assert app.secret is not None
    response = await post_form(client, "/oauth/token", CLIENT_CREDENTIALS, basic(app.client_id, app.secret))
    assert response.status_code == 200, response.text


async def test_basic_credentials_are_form_urlencoded_first(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    """RFC 6749 §2.3.1: a `-` or `_` needs no escaping, but an escaped one must be accepted too."""
    app = await register(session, keyring, AuthMethod.CLIENT_SECRET_BASIC)
    assert app.secret is not None
    escaped_secret = "".join(f"%{ord(c):02X}" if c in "-_" else c for c in app.secret)
    raw = f"{app.client_id}:{escaped_secret}".encode()
    headers = {"authorization": "Basic " + base64.b64encode(raw).decode()}
    response = await post_form(client, "/oauth/token", CLIENT_CREDENTIALS, headers)
    assert response.status_code == 200, response.text


async def test_the_basic_scheme_name_is_case_insensitive(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    app = await register(session, keyring, AuthMethod.CLIENT_SECRET_BASIC)
    assert app.secret is not None
    header = basic(app.client_id, app.secret)["authorization"].replace("Basic", "bAsIc")
    response = await post_form(client, "/oauth/token", CLIENT_CREDENTIALS, {"authorization": header})
    assert response.status_code == 200, response.text


async def test_client_secret_post_works(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    app = await register(session, keyring, AuthMethod.CLIENT_SECRET_POST)
    assert app.secret is not None
    form = {**CLIENT_CREDENTIALS, "client_id": app.client_id, "client_secret": app.secret}
    response = await post_form(client, "/oauth/token", form)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("method", [AuthMethod.CLIENT_SECRET_BASIC, AuthMethod.CLIENT_SECRET_POST])
async def test_a_wrong_secret_is_invalid_client(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring, method: AuthMethod
) -> None:
    app = await register(session, keyring, method)
    wrong = new_client_secret()
    if method is AuthMethod.CLIENT_SECRET_BASIC:
        response = await post_form(client, "/oauth/token", CLIENT_CREDENTIALS, basic(app.client_id, wrong))
        assert_basic_challenge(response)
    else:
        form = {**CLIENT_CREDENTIALS, "client_id": app.client_id, "client_secret": wrong}
        response = await post_form(client, "/oauth/token", form)
        assert "www-authenticate" not in response.headers
    assert_oauth_error(response, 401, "invalid_client")


async def test_another_apps_secret_does_not_authenticate(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    mine, theirs = await register(session, keyring), await register(session, keyring)
    assert theirs.secret is not None
    response = await post_form(
        client, "/oauth/token", CLIENT_CREDENTIALS, basic(mine.client_id, theirs.secret)
    )
    assert_oauth_error(response, 401, "invalid_client")


async def test_an_app_must_use_the_method_it_registered(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    basic_app = await register(session, keyring, AuthMethod.CLIENT_SECRET_BASIC)
    post_app = await register(session, keyring, AuthMethod.CLIENT_SECRET_POST)
    assert basic_app.secret is not None
    assert post_app.secret is not None

    by_post = await post_form(
        client,
        "/oauth/token",
        {**CLIENT_CREDENTIALS, "client_id": basic_app.client_id, "client_secret": basic_app.secret},
    )
    by_basic = await post_form(
        client, "/oauth/token", CLIENT_CREDENTIALS, basic(post_app.client_id, post_app.secret)
    )

    assert "client_secret_basic" in assert_oauth_error(by_post, 401, "invalid_client")["error_description"]
    assert "client_secret_post" in assert_oauth_error(by_basic, 401, "invalid_client")["error_description"]
    assert_basic_challenge(by_basic)


async def test_a_confidential_client_without_its_secret_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    app = await register(session, keyring, AuthMethod.CLIENT_SECRET_POST)
    response = await post_form(client, "/oauth/token", {**CLIENT_CREDENTIALS, "client_id": app.client_id})
    assert_oauth_error(response, 401, "invalid_client")


@pytest.mark.parametrize("how", ["basic", "post"])
async def test_a_public_client_sending_a_secret_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring, how: str
) -> None:
    public = await register(session, keyring, AuthMethod.NONE)
    secret = new_client_secret()
    form = {"grant_type": "authorization_code", "code": "gw_ac_x", "redirect_uri": "https://x.example"}
    if how == "basic":
        response = await post_form(client, "/oauth/token", form, basic(public.client_id, secret))
        assert_basic_challenge(response)
    else:
        response = await post_form(
            client, "/oauth/token", {**form, "client_id": public.client_id, "client_secret": secret}
        )
    assert "public client" in assert_oauth_error(response, 401, "invalid_client")["error_description"]


@pytest.mark.parametrize("how", ["basic", "post", "none"])
async def test_an_unknown_client_is_invalid_client(client: httpx.AsyncClient, how: str) -> None:
    client_id, secret = new_client_id(), new_client_secret()
    if how == "basic":
        response = await post_form(client, "/oauth/token", CLIENT_CREDENTIALS, basic(client_id, secret))
        assert_basic_challenge(response)
    elif how == "post":
        form = {**CLIENT_CREDENTIALS, "client_id": client_id, "client_secret": secret}
        response = await post_form(client, "/oauth/token", form)
    else:
        response = await post_form(client, "/oauth/token", {**CLIENT_CREDENTIALS, "client_id": client_id})
    body = assert_oauth_error(response, 401, "invalid_client")
    assert client_id not in body["error_description"]


async def test_no_client_authentication_at_all_is_invalid_client(client: httpx.AsyncClient) -> None:
    response = await post_form(client, "/oauth/token", CLIENT_CREDENTIALS)
    assert_oauth_error(response, 401, "invalid_client")


@pytest.mark.parametrize(
    "header",
    [
        "Basic",
        "Basic ",
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"no-colon-here").decode(),
        "Basic " + base64.b64encode(b":secret-without-id").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
        "Basic " + base64.b64encode(b"gw_app_x:%ff").decode(),
        "Basic " + "QUJD" * 400,
        "Bearer some-token",
        "Digest username=x",
    ],
)
async def test_malformed_authorization_headers_are_invalid_client(
    client: httpx.AsyncClient, header: str
) -> None:
    response = await post_form(client, "/oauth/token", CLIENT_CREDENTIALS, {"authorization": header})
    assert_oauth_error(response, 401, "invalid_client")
    assert_basic_challenge(response)


async def test_two_authentication_methods_at_once_are_refused(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    app = await register(session, keyring, AuthMethod.CLIENT_SECRET_BASIC)
    assert app.secret is not None
    form = {**CLIENT_CREDENTIALS, "client_id": app.client_id, "client_secret": app.secret}
    response = await post_form(client, "/oauth/token", form, basic(app.client_id, app.secret))
    assert (
        "one client authentication method"
        in assert_oauth_error(response, 400, "invalid_request")["error_description"]
    )


async def test_a_body_client_id_must_agree_with_the_basic_one(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    app, other = await register(session, keyring), await register(session, keyring)
    assert app.secret is not None
    agreeing = {**CLIENT_CREDENTIALS, "client_id": app.client_id}
    disagreeing = {**CLIENT_CREDENTIALS, "client_id": other.client_id}
    ok = await post_form(client, "/oauth/token", agreeing, basic(app.client_id, app.secret))
    refused = await post_form(client, "/oauth/token", disagreeing, basic(app.client_id, app.secret))
    assert ok.status_code == 200, ok.text
    assert_oauth_error(refused, 400, "invalid_request")


async def test_the_previous_secret_works_within_the_rotation_overlap(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    from gateway.apps import service as apps

    app = await register(session, keyring, AuthMethod.CLIENT_SECRET_BASIC)
    assert app.secret is not None
    _app, new_secret = await apps.rotate_secret(session, keyring, app.app.developer_id, app.client_id)
    await session.commit()
    for secret in (app.secret, new_secret):
        response = await post_form(client, "/oauth/token", CLIENT_CREDENTIALS, basic(app.client_id, secret))
        assert response.status_code == 200, response.text


def test_presented_credentials_reads_each_method() -> None:
    header = basic("gw_app_abc", "s3cret")["authorization"]
    assert client_auth.presented_credentials(header, {}) == client_auth.PresentedCredentials(
        "gw_app_abc", "s3cret", AuthMethod.CLIENT_SECRET_BASIC
    )
    assert client_auth.presented_credentials(None, {"client_id": "a", "client_secret": "b"}).method is (
        AuthMethod.CLIENT_SECRET_POST
    )
    assert client_auth.presented_credentials(None, {"client_id": "a"}).method is AuthMethod.NONE
    with pytest.raises(InvalidRequest):
        client_auth.presented_credentials(header, {"client_secret": "b"})
    with pytest.raises(InvalidClient):
        client_auth.presented_credentials(None, {})


async def test_an_unknown_client_costs_about_what_a_known_one_does(
    session: AsyncSession, keyring: Keyring
) -> None:
    """The unknown client is compared against a dummy hash: no early return that timing would reveal."""
    app: Registered = await register(session, keyring, AuthMethod.CLIENT_SECRET_POST)
    unknown = client_auth.PresentedCredentials(
        new_client_id(), new_client_secret(), AuthMethod.CLIENT_SECRET_POST
    )
    known = client_auth.PresentedCredentials(
        app.client_id, new_client_secret(), AuthMethod.CLIENT_SECRET_POST
    )
    from gateway.db.base import utcnow

    async def cost(presented: client_auth.PresentedCredentials) -> float:
        started = time.perf_counter()
        for _ in range(50):
            with pytest.raises(InvalidClient):
                await client_auth.authenticate(session, keyring, presented, now=utcnow())
        return time.perf_counter() - started

    await cost(known)  # warm up (the hashing key is cached after its first use)
    known_cost, unknown_cost = await cost(known), await cost(unknown)
    # Both run the same query and the same HMAC; only a gross difference (a skipped step) would show.
    assert unknown_cost > known_cost / 3


async def test_form_errors_come_before_authentication(client: httpx.AsyncClient) -> None:
    response = await client.post("/oauth/token", content=b"{}", headers={"content-type": "application/json"})
    assert_oauth_error(response, 400, "invalid_request")
    response = await client.post("/oauth/token", content=b"grant_type=client_credentials", headers=FORM)
    assert_oauth_error(response, 401, "invalid_client")
