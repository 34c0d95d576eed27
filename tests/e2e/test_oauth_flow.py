"""The whole OAuth flow against a real `gateway serve`, as an app would run it: Authlib's
`AsyncOAuth2Client` for the client side, Chromium for the school admin's consent.

A confidential client (client_secret_basic) and a public one (none + PKCE): code → tokens, `iss`
checked (RFC 9207), refresh with rotation, introspection, revocation of the refresh token family, an
app-level client_credentials token listing the schools that granted the app.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from playwright.async_api import Page

from tests.support.demo import CALLBACK, answer_callbacks, demo
from tests.support.server import RunningServer

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


async def metadata(server: RunningServer) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{server.base_url}/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


async def consent(page: Page, url: str, admin: dict[str, str], *, signed_in: bool) -> str:
    """Approve in Chromium (signing in first if needed); the URL the browser is sent back to."""
    await page.goto(url)
    if not signed_in:
        await page.wait_for_url("**/login?next=/consent/*")
        await page.get_by_label("Email address").fill(admin["email"])
        await page.get_by_label("Password").fill(admin["password"])
        await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/consent/*")
    if await page.get_by_label("Pupils: date of birth and gender").count():
        await page.get_by_label("Pupils: date of birth and gender").check()
    await page.get_by_role("button", name="Allow access").click()
    await page.wait_for_url(CALLBACK + "?*")
    return page.url


async def register_public_client(server: RunningServer, developer_key: str) -> str:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{server.base_url}/developer/v1/apps",
            headers={"authorization": f"Bearer {developer_key}"},
            json={
                "name": "Demo single-page planner",
                "description": "A public client: PKCE, no secret.",
                "redirect_uris": [CALLBACK],
                "required_scopes": "school groups students.basic",
                "optional_scopes": "students.demographics",
                "token_endpoint_auth_method": "none",
                "privacy_policy_url": "https://planner.example.com/privacy",
                "support_url": "https://planner.example.com/support",
            },
        )
    assert response.status_code == 201, response.text
    assert "client_secret" not in response.json() or response.json()["client_secret"] is None
    client_id: str = response.json()["client_id"]
    return client_id


def iss_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["iss"][0]


async def test_the_whole_flow_with_authlib(
    page: Page, live_server: RunningServer, e2e_env: dict[str, str], tmp_path: Path
) -> None:
    data = demo(e2e_env, live_server, tmp_path, seed=7)
    meta = await metadata(live_server)
    await answer_callbacks(page)
    app = data["app"]

    # Confidential client, client_secret_basic.
    client = AsyncOAuth2Client(
        app["client_id"],
        app["client_secret"],
        token_endpoint_auth_method="client_secret_basic",
        scope=f"{app['required_scopes']} {app['optional_scopes']}",
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
    )
    verifier = generate_token(48)
    url, state = client.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, school_id=data["school_id"]
    )
    callback = await consent(page, url, data["admin"], signed_in=False)
    assert iss_of(callback) == meta["issuer"] == live_server.base_url
    token = await client.fetch_token(
        meta["token_endpoint"], authorization_response=callback, code_verifier=verifier, state=state
    )
    assert token["token_type"].lower() == "bearer"
    assert set(token["scope"].split()) == {"school", "groups", "students.basic", "students.demographics"}
    assert token["expires_in"] == 900
    assert re.fullmatch(r"gw_rt_[A-Za-z0-9_-]{43}", token["refresh_token"])

    introspected = await client.introspect_token(meta["introspection_endpoint"], token=token["access_token"])
    assert introspected.json()["active"] is True
    assert introspected.json()["school_id"] == data["school_id"]

    refreshed = await client.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["refresh_token"] != token["refresh_token"]
    assert set(refreshed["scope"].split()) == set(token["scope"].split())

    # The app-level token lists the schools that granted the app.
    app_client = AsyncOAuth2Client(
        app["client_id"], app["client_secret"], token_endpoint_auth_method="client_secret_basic"
    )
    app_token = await app_client.fetch_token(meta["token_endpoint"], grant_type="client_credentials")
    assert "refresh_token" not in app_token
    schools = await app_client.get(f"{live_server.base_url}/api/v1/app/schools")
    assert schools.status_code == 200, schools.text
    assert data["school_id"] in schools.text

    # Revoking the refresh token ends its family: the access tokens from it are no longer active.
    revoked = await client.revoke_token(
        meta["revocation_endpoint"], token=refreshed["refresh_token"], token_type_hint="refresh_token"
    )
    assert revoked.status_code == 200
    after = await client.introspect_token(meta["introspection_endpoint"], token=refreshed["access_token"])
    assert after.json() == {"active": False}
    with pytest.raises(Exception, match="invalid_grant"):
        await client.refresh_token(meta["token_endpoint"], refresh_token=refreshed["refresh_token"])

    # Public client: no secret, PKCE only; the admin is still signed in.
    public_id = await register_public_client(live_server, data["developer_key"])
    public = AsyncOAuth2Client(
        public_id,
        token_endpoint_auth_method="none",
        scope="school groups students.basic",
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
    )
    public_verifier = generate_token(48)
    url, state = public.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=public_verifier, school_id=data["school_id"]
    )
    callback = await consent(page, url, data["admin"], signed_in=True)
    public_token = await public.fetch_token(
        meta["token_endpoint"], authorization_response=callback, code_verifier=public_verifier, state=state
    )
    assert "students.basic" in public_token["scope"].split()
    rotated = await public.refresh_token(meta["token_endpoint"], refresh_token=public_token["refresh_token"])
    assert rotated["access_token"] != public_token["access_token"]
    for client_ in (client, app_client, public):
        await client_.aclose()
