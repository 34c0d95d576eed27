"""The sample app (examples/sample_app) against a stand-in gateway (httpx.MockTransport).

What can be checked without the authorize, consent and token endpoints: reading the credentials file that
`gateway demo` writes, the authorize URL (PKCE S256, state, scope, school_id), the callback checks (state,
RFC 9207 `iss`), the token requests it sends, what it prints, and `POST /webhooks` with deliveries signed
and built the way the gateway signs and builds them (`gateway.webhooks.signing`, `.events`). The run
against a real gateway lives with the OAuth flow tests; the receiver's logic without HTTP in
test_sample_app_webhooks.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from examples.sample_app.__main__ import main
from examples.sample_app.credentials import CredentialsError, DemoCredentials, load_credentials
from examples.sample_app.web import SampleApp, create_app
from starlette.applications import Starlette

from gateway.consent.audience import Audience
from gateway.demo_app import DemoApp, credentials, write_credentials
from gateway.webhooks import events, signing
from gateway.webhooks.events import EndedBy, GrantState, WebhookEvent
from gateway.webhooks.outbox import new_message_id

ISSUER = "http://127.0.0.1:8000"
SCHOOL_ID = "6f1c1d8e-2f52-4c1b-9a55-0d9d1e6c1a01"
SECRET = "gw_cs_" + "s" * 43
PASSWORD = "Demo-Password-4821"
ACCESS, REFRESH, APP_ACCESS = "at-" + "a" * 40, "rt-" + "r" * 40, "app-" + "c" * 40
RAW_WEBHOOK_SECRET = bytes(range(32))
WEBHOOK_SECRET = "whsec_" + base64.b64encode(RAW_WEBHOOK_SECRET).decode()


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
        webhook_secret=WEBHOOK_SECRET,
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
    assert loaded.webhook_url == "http://127.0.0.1:8765/webhooks"
    assert loaded.webhook_secret == WEBHOOK_SECRET
    assert loaded.scope == (
        "school groups students.basic students.demographics attendance.summaries students.sen"
    )
    assert SECRET not in repr(loaded)
    assert PASSWORD not in repr(loaded)
    assert WEBHOOK_SECRET not in repr(loaded)


def test_missing_or_broken_credentials_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(CredentialsError, match="scripts/demo"):
        load_credentials(tmp_path / "nope.json")
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"issuer": ISSUER}))
    with pytest.raises(CredentialsError, match="run `gateway demo` again"):
        load_credentials(broken)
    assert main(["--credentials", str(tmp_path / "nope.json")]) == 2
    assert "scripts/demo" in capsys.readouterr().err


def test_credentials_without_a_webhook_secret(credentials_file: Path) -> None:
    content = json.loads(credentials_file.read_text())
    for secret in ("not-a-secret", "whsec_", "whsec_!!!"):
        content["app"]["webhook_secret"] = secret
        credentials_file.write_text(json.dumps(content))
        with pytest.raises(CredentialsError, match="webhook_secret"):
            load_credentials(credentials_file)
    del content["app"]["webhook_secret"]  # a file from before webhooks
    credentials_file.write_text(json.dumps(content))
    with pytest.raises(CredentialsError, match="run `gateway demo` again"):
        load_credentials(credentials_file)


class StandInGateway:
    """Answers like the gateway will; records what the sample app sent."""

    def __init__(self, credentials: DemoCredentials) -> None:
        self.credentials = credentials
        self.token_requests: list[tuple[dict[str, list[str]], str | None]] = []
        self.revocations: list[dict[str, list[str]]] = []
        self.challenge: str | None = None
        self.students_status = 404
        self.students: list[dict[str, Any]] = [{"id": "s1", "first_name": "Ada", "year_code": "7"}]
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
                return httpx.Response(200, json={"data": self.students})
            return httpx.Response(self.students_status, json={"title": "x"})
        if path == "/api/v1/app/disconnect":
            self.disconnected = True
            return httpx.Response(204)
        return httpx.Response(404)


@dataclass
class Running:
    app: Starlette
    browser: httpx.AsyncClient
    gateway: StandInGateway
    printed: list[str]

    @property
    def sample(self) -> SampleApp:
        state: SampleApp = self.app.state.sample
        return state


@pytest.fixture
async def running(credentials_file: Path) -> AsyncIterator[Running]:
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
        yield Running(app, browser, gateway, printed)


@pytest.fixture
def sample(running: Running) -> tuple[httpx.AsyncClient, StandInGateway, list[str]]:
    return running.browser, running.gateway, running.printed


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


# --- Webhooks ------------------------------------------------------------------------------------------

PUPILS: list[dict[str, Any]] = [
    {"id": "s1", "first_name": "Ada", "year_code": "7", "dob": "2013-04-01", "gender": "F"},
    {"id": "s2", "first_name": "Ben", "year_code": "8", "dob": "2012-09-30", "gender": "M"},
]
ALL_SCOPES = frozenset(
    ["school", "groups", "students.basic", "students.demographics", "attendance.summaries", "students.sen"]
)
GRANT_ID = uuid.UUID("0b7e6a52-6f0e-4c55-9a0f-3f1e2d9c8b01")


def signed(
    event: WebhookEvent,
    data: dict[str, Any],
    *,
    message_id: str | None = None,
    secret: bytes = RAW_WEBHOOK_SECRET,
    sent_at: datetime | None = None,
) -> tuple[bytes, dict[str, str]]:
    """A delivery as the gateway makes it: the outbox's body, `signing.headers`."""
    at = sent_at or datetime.now(UTC)
    body = json.dumps(events.envelope(event, data, at), separators=(",", ":"), sort_keys=True)
    return body.encode(), signing.headers(message_id or new_message_id(), at, body, [secret])


def revoked(school_id: str = SCHOOL_ID) -> dict[str, Any]:
    return events.grant_revoked(GRANT_ID, uuid.UUID(school_id), "100001", EndedBy.SCHOOL, datetime.now(UTC))


async def _connected(running: Running) -> None:
    """Connect the school; the tour reads (and keeps) the stand-in's pupils."""
    running.gateway.students_status = 200
    running.gateway.students = [dict(pupil) for pupil in PUPILS]
    state = (await _connect(running.browser, running.gateway))["state"][0]
    params = {"code": "the-code", "state": state, "iss": ISSUER}
    assert (await running.browser.get("/callback", params=params)).status_code == 303
    assert running.sample.client.session.token is not None
    assert running.sample.records.count(SCHOOL_ID) == 2


async def _post(running: Running, delivery: tuple[bytes, dict[str, str]]) -> httpx.Response:
    body, headers = delivery
    return await running.browser.post("/webhooks", content=body, headers=headers)


async def test_a_signed_grant_revoked_deletes_the_school(running: Running) -> None:
    await _connected(running)
    page = (await running.browser.get("/")).text
    assert "holds 2 record(s) of the school" in page
    assert "Ada" in page

    response = await _post(running, signed(WebhookEvent.GRANT_REVOKED, revoked(), message_id="msg_1"))

    assert response.status_code == 200
    assert running.sample.client.session.token is None
    assert running.sample.records.count(SCHOOL_ID) == 0
    page = (await running.browser.get("/")).text
    assert "No school connected" in page
    assert "holds 0 record(s) of the school" in page
    assert "Ada" not in page  # nor anywhere else on the page
    assert "<code>grant.revoked</code> (msg_1): deleted the token and 2 record(s)" in page
    for line in running.printed:
        assert WEBHOOK_SECRET not in line
    assert WEBHOOK_SECRET not in page


async def test_a_revocation_for_another_school_leaves_this_one(running: Running) -> None:
    await _connected(running)
    other = "9d0f3c2a-1b4e-4f6a-8c7d-2e5f6a7b8c9d"
    assert (await _post(running, signed(WebhookEvent.APP_DISCONNECTED, revoked(other)))).status_code == 200
    assert running.sample.client.session.token is not None
    assert running.sample.records.count(SCHOOL_ID) == 2


async def test_a_wrongly_signed_webhook_is_refused(running: Running) -> None:
    await _connected(running)
    body, headers = signed(WebhookEvent.GRANT_REVOKED, revoked())
    tampered = body.replace(b'"school"', b'"school" ', 1)
    stale = signed(WebhookEvent.GRANT_REVOKED, revoked(), sent_at=datetime.now(UTC) - timedelta(minutes=6))
    unsigned = {name: value for name, value in headers.items() if name != "webhook-signature"}
    for delivery in [
        signed(WebhookEvent.GRANT_REVOKED, revoked(), secret=b"another app's secret, 32 bytes.."),
        (tampered, headers),
        stale,
        (body, unsigned),
        (body, {**headers, "webhook-id": "msg_other"}),  # the id is signed too
    ]:
        response = await _post(running, delivery)
        assert response.status_code == 400
        assert running.sample.client.session.token is not None
        assert running.sample.records.count(SCHOOL_ID) == 2
    assert not running.sample.webhooks.received
    assert "None yet." in (await running.browser.get("/")).text
    assert any("refused a webhook" in line for line in running.printed)
    # The genuine delivery still acts: nothing above marked its id as seen.
    assert (await _post(running, (body, headers))).status_code == 200
    assert running.sample.records.count(SCHOOL_ID) == 0


async def test_a_repeated_webhook_id_is_ignored(running: Running) -> None:
    await _connected(running)
    delivery = signed(WebhookEvent.GRANT_REVOKED, revoked(), message_id="msg_once")
    assert (await _post(running, delivery)).status_code == 200
    assert running.sample.records.count(SCHOOL_ID) == 0

    await _connected(running)  # the school connects again
    again = await _post(running, delivery)  # the gateway redelivers the old message

    assert again.status_code == 200
    assert running.sample.client.session.token is not None
    assert running.sample.records.count(SCHOOL_ID) == 2
    assert len(running.sample.webhooks.received) == 1
    assert any("already acted on, ignored" in line for line in running.printed)


async def test_grant_narrowed_deletes_the_removed_fields_and_hidden_pupils(running: Running) -> None:
    await _connected(running)
    assert "2013-04-01" in (await running.browser.get("/")).text
    before = GrantState(ALL_SCOPES, Audience())
    after = GrantState(ALL_SCOPES - {"students.demographics"}, Audience(exclude=frozenset({"s2"})))
    data = events.grant_narrowed(GRANT_ID, uuid.UUID(SCHOOL_ID), "100001", before, after)
    assert data["removed"]["fields"] == {"students": ["dob", "gender"]}

    response = await _post(running, signed(WebhookEvent.GRANT_NARROWED, data))

    assert response.status_code == 200
    assert running.sample.records.records(SCHOOL_ID, "students") == [
        {"id": "s1", "first_name": "Ada", "year_code": "7"}
    ]
    assert running.sample.client.session.token is not None  # the grant goes on, narrower
    page = (await running.browser.get("/")).text
    assert "deleted students.dob, students.gender from 2 record(s) and 1 record(s) of 1 hidden" in page
    assert "2013-04-01" not in page
    assert "Ben" not in page


async def test_other_events_are_recorded(running: Running) -> None:
    await _connected(running)
    state = GrantState(ALL_SCOPES, Audience())
    for event, data in [
        (WebhookEvent.GRANT_CREATED, events.grant_created(GRANT_ID, uuid.UUID(SCHOOL_ID), "100001", state)),
        (WebhookEvent.PING, events.ping("demo-client")),
    ]:
        assert (await _post(running, signed(event, data))).status_code == 200
    assert [hook.type for hook in running.sample.webhooks.received] == ["grant.created", "ping"]
    assert running.sample.records.count(SCHOOL_ID) == 2
    assert (await running.browser.get("/webhooks")).status_code == 405
