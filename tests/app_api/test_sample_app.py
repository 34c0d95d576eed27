"""The sample app (examples/sample_app) against a stand-in gateway (httpx.MockTransport).

What can be checked without the authorize, consent and token endpoints: reading the credentials file that
`gateway demo` writes, the authorize URL (PKCE S256, state, scope, school_id), the callback checks (state,
RFC 9207 `iss`), the token requests it sends, and what it prints. The run against a real gateway lives
with the OAuth flow tests.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from examples.sample_app.__main__ import main
from examples.sample_app.credentials import CredentialsError, DemoCredentials, load_credentials
from examples.sample_app.web import create_app

from gateway.demo_app import DemoApp, credentials, write_credentials

ISSUER = "http://127.0.0.1:8000"
SCHOOL_ID = "6f1c1d8e-2f52-4c1b-9a55-0d9d1e6c1a01"
SECRET = "gw_cs_" + "s" * 43
PASSWORD = "Demo-Password-4821"
ACCESS, REFRESH, APP_ACCESS = "at-" + "a" * 40, "rt-" + "r" * 40, "app-" + "c" * 40


@pytest.fixture
def credentials_file(tmp_path: Path) -> Path:
    app = DemoApp(
        developer_key="gw_dk_" + "d" * 40,
        client_id="demo-client",
        client_secret=SECRET,
        redirect_uris=["http://127.0.0.1:8765/callback"],
        required_scopes="school groups students.basic",
        optional_scopes="students.demographics attendance.summaries students.sen",
        webhook_url="http://127.0.0.1:8765/webhooks",
        webhook_secret="whsec_" + "w" * 44,
    )
    path = tmp_path / "demo-credentials.json"
    write_credentials(path, credentials(ISSUER, SCHOOL_ID, "admin@demo.example.org", PASSWORD, app))
    return path


def test_reads_the_file_gateway_demo_writes(credentials_file: Path) -> None:
    loaded = load_credentials(credentials_file)
    assert loaded.issuer == ISSUER
    assert loaded.school_id == SCHOOL_ID
    assert loaded.client_id == "demo-client"
    assert loaded.client_secret == SECRET
    assert loaded.redirect_uri == "http://127.0.0.1:8765/callback"
    assert loaded.scope == (
        "school groups students.basic students.demographics attendance.summaries students.sen"
    )
    assert SECRET not in repr(loaded)
    assert PASSWORD not in repr(loaded)


def test_missing_or_broken_credentials_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(CredentialsError, match="scripts/demo"):
        load_credentials(tmp_path / "nope.json")
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"issuer": ISSUER}))
    with pytest.raises(CredentialsError, match="run `gateway demo` again"):
        load_credentials(broken)
    assert main(["--credentials", str(tmp_path / "nope.json")]) == 2
    assert "scripts/demo" in capsys.readouterr().err


class StandInGateway:
    """Answers like the gateway will; records what the sample app sent."""

    def __init__(self, credentials: DemoCredentials) -> None:
        self.credentials = credentials
        self.token_requests: list[tuple[dict[str, list[str]], str | None]] = []
        self.revocations: list[dict[str, list[str]]] = []
        self.challenge: str | None = None
        self.students_status = 404
        self.disconnected = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/.well-known/oauth-authorization-server":
            return httpx.Response(
                200,
                json={
                    "issuer": ISSUER,
                    "authorization_endpoint": f"{ISSUER}/oauth/authorize",
                    "token_endpoint": f"{ISSUER}/oauth/token",
                    "revocation_endpoint": f"{ISSUER}/oauth/revoke",
                    "authorization_response_iss_parameter_supported": True,
                },
            )
        if path == "/oauth/token":
            form = parse_qs(request.content.decode())
            self.token_requests.append((form, request.headers.get("authorization")))
            grant_type = form["grant_type"][0]
            if grant_type == "client_credentials":
                return httpx.Response(
                    200, json={"access_token": APP_ACCESS, "token_type": "Bearer", "expires_in": 900}
                )
            if grant_type == "authorization_code":
                verifier = form["code_verifier"][0]
                digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
                if digest.decode() != self.challenge or form["code"] != ["the-code"]:
                    return httpx.Response(400, json={"error": "invalid_grant"})
            return httpx.Response(
                200,
                json={
                    "access_token": ACCESS,
                    "refresh_token": REFRESH,
                    "token_type": "Bearer",
                    "expires_in": 900,
                    "scope": "school groups students.basic students.demographics",
                },
            )
        if path == "/oauth/revoke":
            self.revocations.append(parse_qs(request.content.decode()))
            return httpx.Response(200)
        if path == "/api/v1/app/schools":
            assert request.headers["authorization"] == f"Bearer {APP_ACCESS}"
            return httpx.Response(
                200,
                json={
                    "schools": [
                        {"name": "Demo Academy", "urn": "100001", "scope": "school groups students.basic"}
                    ],
                    "next_cursor": None,
                },
            )
        if path == "/api/v1/students":
            assert request.headers["authorization"] == f"Bearer {ACCESS}"
            if self.students_status == 200:
                return httpx.Response(
                    200, json={"data": [{"id": "s1", "first_name": "Ada", "year_code": "7"}]}
                )
            return httpx.Response(self.students_status, json={"title": "x"})
        if path == "/api/v1/app/disconnect":
            self.disconnected = True
            return httpx.Response(204)
        return httpx.Response(404)


@pytest.fixture
async def sample(
    credentials_file: Path,
) -> AsyncIterator[tuple[httpx.AsyncClient, StandInGateway, list[str]]]:
    loaded = load_credentials(credentials_file)
    gateway = StandInGateway(loaded)
    printed: list[str] = []
    app = create_app(loaded, say=printed.append, transport=httpx.MockTransport(gateway.handle))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8765"
        ) as browser,
    ):
        yield browser, gateway, printed


async def _connect(browser: httpx.AsyncClient, gateway: StandInGateway) -> dict[str, list[str]]:
    response = await browser.get("/connect")
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{ISSUER}/oauth/authorize"
    query = parse_qs(location.query)
    gateway.challenge = query["code_challenge"][0]
    return query


async def test_authorize_url(sample: tuple[httpx.AsyncClient, StandInGateway, list[str]]) -> None:
    browser, gateway, _printed = sample
    first, second = await _connect(browser, gateway), await _connect(browser, gateway)
    assert first["response_type"] == ["code"]
    assert first["client_id"] == ["demo-client"]
    assert first["redirect_uri"] == ["http://127.0.0.1:8765/callback"]
    assert first["scope"] == [
        "school groups students.basic students.demographics attendance.summaries students.sen"
    ]
    assert first["school_id"] == [SCHOOL_ID]
    assert first["code_challenge_method"] == ["S256"]
    assert len(first["code_challenge"][0]) == 43  # base64url of a SHA-256 digest
    assert len(first["state"][0]) >= 32
    assert first["state"] != second["state"]
    assert first["code_challenge"] != second["code_challenge"]
    assert all(SECRET not in value for values in first.values() for value in values)


async def test_whole_flow_against_a_stand_in(
    sample: tuple[httpx.AsyncClient, StandInGateway, list[str]],
) -> None:
    browser, gateway, printed = sample
    state = (await _connect(browser, gateway))["state"][0]

    response = await browser.get("/callback", params={"code": "the-code", "state": state, "iss": ISSUER})
    assert response.status_code == 303

    form, authorization = gateway.token_requests[0]
    assert form["grant_type"] == ["authorization_code"]
    assert form["redirect_uri"] == ["http://127.0.0.1:8765/callback"]
    assert "client_secret" not in form  # client_secret_basic: in the header only
    assert authorization == "Basic " + base64.b64encode(f"demo-client:{SECRET}".encode()).decode()
    assert gateway.token_requests[1][0]["grant_type"] == ["client_credentials"]
    assert "scope" not in gateway.token_requests[1][0]

    page = (await browser.get("/")).text
    assert "school groups students.basic students.demographics" in page
    assert any("Demo Academy" in line for line in printed)
    assert any("the data API is not available yet" in line for line in printed)

    # The state is single use.
    again = await browser.get("/callback", params={"code": "the-code", "state": state, "iss": ISSUER})
    assert "does not match" in again.text

    form_token = page.split('name="form_token" value="', 1)[1].split('"', 1)[0]
    assert (await browser.post("/refresh", data={})).status_code == 403
    assert (await browser.post("/refresh", data={"form_token": form_token})).status_code == 303
    refresh_form = gateway.token_requests[-1][0]
    assert refresh_form["grant_type"] == ["refresh_token"]
    assert refresh_form["refresh_token"] == [REFRESH]
    assert "scope" not in refresh_form  # never asks for more than was granted

    gateway.students_status = 200
    assert (await browser.post("/call", data={"form_token": form_token})).status_code == 303
    assert any('"first_name": "Ada"' in line for line in printed)

    gateway.students_status = 401
    assert (await browser.post("/revoke", data={"form_token": form_token})).status_code == 303
    assert gateway.revocations == [{"token": [REFRESH], "token_type_hint": ["refresh_token"]}]
    assert any("now gets 401" in line for line in printed)
    assert "No school connected" in (await browser.get("/")).text

    for line in printed:
        for secret in (SECRET, PASSWORD, ACCESS, REFRESH, APP_ACCESS):
            assert secret not in line
    assert SECRET not in page
    assert PASSWORD not in page


async def test_callback_checks(sample: tuple[httpx.AsyncClient, StandInGateway, list[str]]) -> None:
    browser, gateway, _printed = sample
    cases: list[tuple[dict[str, Any], str]] = [
        ({"code": "the-code", "state": "forged", "iss": ISSUER}, "does not match"),
        ({"code": "the-code", "state": "", "iss": ISSUER}, "does not match"),
        ({"code": "the-code", "iss": "https://evil.example.com"}, "not our gateway"),
        ({"code": "the-code"}, "not our gateway"),  # the metadata promises `iss`
        ({"error": "access_denied", "iss": ISSUER}, "did not authorise"),
    ]
    for params, expected in cases:
        query = await _connect(browser, gateway)
        params.setdefault("state", query["state"][0])
        response = await browser.get("/callback", params=params)
        assert response.status_code == 200
        assert expected in response.text, (params, response.text[:500])
    assert gateway.token_requests == []


async def test_disconnect(sample: tuple[httpx.AsyncClient, StandInGateway, list[str]]) -> None:
    browser, gateway, printed = sample
    state = (await _connect(browser, gateway))["state"][0]
    await browser.get("/callback", params={"code": "the-code", "state": state, "iss": ISSUER})
    page = (await browser.get("/")).text
    form_token = page.split('name="form_token" value="', 1)[1].split('"', 1)[0]
    assert (await browser.post("/disconnect", data={"form_token": form_token})).status_code == 303
    assert gateway.disconnected
    assert any("disconnect answered 204" in line for line in printed)
    assert "No school connected" in (await browser.get("/")).text
