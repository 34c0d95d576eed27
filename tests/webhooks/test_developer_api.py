"""`/developer/v1/apps/{client_id}/webhook…` through the real app (issue 14, item 5): the endpoint's state and
its live secrets, secret rotation, ping, the delivery log and its cursor, one message, redelivery; another
developer's apps and another app's messages (404), missing keys (401), and wrong, oversized and hostile input
(a 4xx problem+json, nothing written). The delivery worker does not run here (no lifespan): what is queued
stays pending unless a test sends it with `deliver_due`."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from gateway.apps.models import App
from gateway.db.base import utcnow
from gateway.db.session import Database
from gateway.http.cursors import CURSOR_SECRET, seal_cursor
from gateway.keys.keyring import Keyring
from gateway.webhooks import events, secrets
from gateway.webhooks.delivery import Outbound, deliver_due
from gateway.webhooks.events import WebhookEvent
from gateway.webhooks.models import WebhookEndpoint, WebhookMessage, WebhookSecret
from gateway.webhooks.outbox import enqueue
from tests.support.apps import APPS, registration
from tests.support.developers import DeveloperWithKey
from tests.support.http import bearer
from tests.support.row_counts import changed, row_counts

PROBLEM_JSON = "application/problem+json"
HOOK_URL = registration()["webhook_url"]
MESSAGE_ID = re.compile(r"msg_[0-9a-f]+")
MESSAGE_FIELDS = {
    "id", "event_type", "created_at", "state", "attempts", "last_attempt_at", "last_status", "last_error",
    "next_attempt_at", "delivered_at", "failed_at",
}  # fmt: skip
ENDPOINT_FIELDS = {
    "client_id",
    "url",
    "enabled",
    "disabled_at",
    "disabled_reason",
    "failing_since",
    "secrets",
}
UNKNOWN_MESSAGE = "msg_" + "0" * 26  # the shape of a real id; no message has it

# Every route, as (method, path under /developer/v1/apps/{client_id}); `{message_id}` is filled with a
# message of the app.
ROUTES = [
    ("GET", "/webhook"),
    ("GET", "/webhook-deliveries"),
    ("GET", "/webhook-deliveries/{message_id}"),
    ("POST", "/webhook-deliveries/{message_id}/redeliver"),
    ("POST", "/ping"),
    ("POST", "/webhook-secret"),
]
POSTS = [(method, rest) for method, rest in ROUTES if method == "POST"]
MESSAGE_ROUTES = [(method, rest) for method, rest in ROUTES if "{message_id}" in rest]
ROUTE_IDS = [f"{method} {rest or '/'}" for method, rest in ROUTES]
POST_IDS = [f"POST {rest}" for _, rest in POSTS]
MESSAGE_ROUTE_IDS = [f"{method} {rest}" for method, rest in MESSAGE_ROUTES]


@dataclass
class Hooked:
    """An app registered through the API, its developer's key and the webhook secret shown at registration."""

    client_id: str
    key: str
    webhook_secret: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.key)

    def url(
        self, rest: str = "/webhook", *, client_id: str | None = None, message_id: str = UNKNOWN_MESSAGE
    ) -> str:
        return f"{APPS}/{client_id or self.client_id}" + rest.replace("{message_id}", message_id)


async def register(client: httpx.AsyncClient, who: DeveloperWithKey, **overrides: Any) -> Hooked:
    response = await client.post(APPS, json=registration(**overrides), headers=bearer(who.key))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["webhook_secret"].startswith(secrets.PREFIX)
    return Hooked(body["client_id"], who.key, body["webhook_secret"])


@pytest.fixture
async def hooked(client: httpx.AsyncClient, developer: DeveloperWithKey) -> Hooked:
    """The developer's app, with a webhook URL."""
    return await register(client, developer)


@pytest.fixture
async def theirs(client: httpx.AsyncClient, other_developer: DeveloperWithKey) -> Hooked:
    """Another developer's app, with a webhook URL."""
    return await register(client, other_developer, name="Their Planner")


async def ping(client: httpx.AsyncClient, app: Hooked) -> dict[str, Any]:
    response = await client.post(app.url("/ping"), headers=app.headers)
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


async def rotate(client: httpx.AsyncClient, app: Hooked) -> dict[str, Any]:
    response = await client.post(app.url("/webhook-secret"), headers=app.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def endpoint(client: httpx.AsyncClient, app: Hooked) -> dict[str, Any]:
    response = await client.get(app.url(), headers=app.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def log_page(client: httpx.AsyncClient, app: Hooked, **params: str) -> dict[str, Any]:
    response = await client.get(app.url("/webhook-deliveries"), params=params, headers=app.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def stored_app(session: AsyncSession, client_id: str) -> App:
    app = await session.scalar(
        select(App).where(App.client_id == client_id).execution_options(populate_existing=True)
    )
    assert app is not None
    return app


async def stored_message(session: AsyncSession, message_id: str) -> WebhookMessage:
    message = await session.get(WebhookMessage, message_id, populate_existing=True)
    assert message is not None
    return message


def problem(response: httpx.Response, status: int, slug: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    if slug is not None:
        assert body["type"] == f"urn:gateway:problem:{slug}"
    return body


def parameters(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, where) of each parameter a problem's `errors` names."""
    return [(entry["parameter"], entry["in"]) for entry in body.get("errors", [])]


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def raw(webhook_secret: str) -> bytes:
    return base64.b64decode(webhook_secret.removeprefix(secrets.PREFIX), validate=True)


WEBHOOK_TABLES: list[Table] = [
    WebhookSecret.__table__,  # type: ignore[list-item]
    WebhookMessage.__table__,  # type: ignore[list-item]
    WebhookEndpoint.__table__,  # type: ignore[list-item]
    App.__table__,  # type: ignore[list-item]
]


@dataclass
class Snapshot:
    """Row counts of every table, and every row of the webhook tables and of `apps` (updates show too)."""

    counts: dict[str, int]
    rows: list[list[str]]

    @classmethod
    async def take(cls, connection: AsyncConnection) -> Snapshot:
        rows = [
            sorted(repr(tuple(row)) for row in (await connection.execute(select(table))).all())
            for table in WEBHOOK_TABLES
        ]
        return cls(await row_counts(connection), rows)

    async def unchanged(self, connection: AsyncConnection) -> None:
        now = await Snapshot.take(connection)
        assert not changed(self.counts, now.counts)
        assert now.rows == self.rows


# --- the endpoint's state and its secrets -------------------------------------------------------------------


async def test_the_endpoint_of_an_app_with_a_webhook_url(client: httpx.AsyncClient, hooked: Hooked) -> None:
    response = await client.get(hooked.url(), headers=hooked.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == ENDPOINT_FIELDS
    assert body["client_id"] == hooked.client_id
    assert body["url"] == HOOK_URL
    assert body["enabled"] is True
    assert body["disabled_at"] is None
    assert body["disabled_reason"] is None
    assert body["failing_since"] is None
    [secret] = body["secrets"]
    assert set(secret) == {"created_at", "retires_at"}
    assert secret["retires_at"] is None
    assert when(secret["created_at"]) <= utcnow()
    assert secrets.PREFIX not in response.text


async def test_the_endpoint_of_an_app_without_a_webhook_url(
    client: httpx.AsyncClient, developer: DeveloperWithKey
) -> None:
    app = await register(client, developer, webhook_url=None)
    body = await endpoint(client, app)
    assert body["client_id"] == app.client_id
    assert body["url"] is None
    assert body["enabled"] is True
    assert body["disabled_at"] is None
    assert body["failing_since"] is None
    [secret] = body["secrets"]  # every app gets one at registration, so a URL set later is signed at once
    assert secret["retires_at"] is None


async def test_after_a_rotation_both_live_secrets_are_listed_newest_first(
    client: httpx.AsyncClient, hooked: Hooked
) -> None:
    [first] = (await endpoint(client, hooked))["secrets"]
    rotated = await rotate(client, hooked)
    newest, old = (await endpoint(client, hooked))["secrets"]
    assert newest["retires_at"] is None
    assert old["created_at"] == first["created_at"]
    assert when(old["retires_at"]) == when(rotated["previous_secret_retires_at"])
    assert when(old["retires_at"]) - when(newest["created_at"]) == timedelta(hours=24)
    assert when(newest["created_at"]) >= when(first["created_at"])


async def test_a_secret_retired_is_no_longer_listed(
    client: httpx.AsyncClient, hooked: Hooked, session: AsyncSession
) -> None:
    await rotate(client, hooked)
    app = await stored_app(session, hooked.client_id)
    old = await session.scalar(
        select(WebhookSecret).where(WebhookSecret.app_id == app.id, WebhookSecret.retired_at.is_not(None))
    )
    assert old is not None
    old.retired_at = utcnow() - timedelta(seconds=1)  # its 24 hours are over
    await session.commit()
    [current] = (await endpoint(client, hooked))["secrets"]
    assert current["retires_at"] is None


# --- rotation -----------------------------------------------------------------------------------------------


async def test_rotating_shows_the_new_secret_once_and_the_old_one_keeps_signing(
    client: httpx.AsyncClient, hooked: Hooked, session: AsyncSession, keyring: Keyring
) -> None:
    response = await client.post(hooked.url("/webhook-secret"), headers=hooked.headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"client_id", "webhook_secret", "previous_secret_retires_at"}
    assert body["client_id"] == hooked.client_id
    new, old = body["webhook_secret"], hooked.webhook_secret
    assert new.startswith(secrets.PREFIX)
    assert new != old
    assert len(raw(new)) == 32
    assert when(body["previous_secret_retires_at"]) - utcnow() > timedelta(hours=23, minutes=59)

    message = await ping(client, hooked)
    later = [
        await client.get(path, headers=hooked.headers)
        for path in (
            hooked.url(),
            hooked.url("/webhook-deliveries"),
            hooked.url("/webhook-deliveries/{message_id}", message_id=message["id"]),
            f"{APPS}/{hooked.client_id}",
            APPS,
        )
    ]
    for answer in later:
        assert answer.status_code == 200, answer.text
        assert secrets.PREFIX not in answer.text
        assert new.removeprefix(secrets.PREFIX) not in answer.text
        assert old.removeprefix(secrets.PREFIX) not in answer.text

    app = await stored_app(session, hooked.client_id)
    now = utcnow()
    assert await secrets.live_secrets(session, keyring, app.id, now) == [raw(new), raw(old)]
    assert await secrets.live_secrets(session, keyring, app.id, now + timedelta(hours=24, seconds=1)) == [
        raw(new)
    ]
    for row in await session.scalars(select(WebhookSecret).where(WebhookSecret.app_id == app.id)):
        assert raw(new) not in row.sealed
        assert raw(old) not in row.sealed


# --- ping ---------------------------------------------------------------------------------------------------


async def test_a_ping_is_queued_and_shows_in_the_log(
    client: httpx.AsyncClient, hooked: Hooked, session: AsyncSession
) -> None:
    before = utcnow()
    response = await client.post(hooked.url("/ping"), headers=hooked.headers)
    assert response.status_code == 202, response.text
    body = response.json()
    assert set(body) == MESSAGE_FIELDS
    assert MESSAGE_ID.fullmatch(body["id"])
    assert len(body["id"]) <= 40
    assert body["event_type"] == "ping"
    assert body["state"] == "pending"
    assert body["attempts"] == 0
    assert when(body["created_at"]) >= before
    assert when(body["next_attempt_at"]) == when(body["created_at"])  # due at once
    for field in ("last_attempt_at", "last_status", "last_error", "delivered_at", "failed_at"):
        assert body[field] is None

    log = await log_page(client, hooked)
    assert log == {"messages": [body], "next_cursor": None}
    row = await stored_message(session, body["id"])
    assert row.url == HOOK_URL
    assert row.app_id == (await stored_app(session, hooked.client_id)).id


async def test_a_ping_without_a_webhook_url_is_409(
    client: httpx.AsyncClient, developer: DeveloperWithKey, connection: AsyncConnection
) -> None:
    app = await register(client, developer, webhook_url=None)
    before = await Snapshot.take(connection)
    response = await client.post(app.url("/ping"), headers=app.headers)
    body = problem(response, 409, "no-webhook-url")
    assert "webhook_url" in body["detail"]
    await before.unchanged(connection)
    assert (await log_page(client, app))["messages"] == []


# --- the delivery log and its cursor ------------------------------------------------------------------------


async def queue(session: AsyncSession, client_id: str, times: list[datetime]) -> list[str]:
    """A ping queued for the app at each time, committed; their ids, newest first as the log lists them."""
    app = await stored_app(session, client_id)
    queued = []
    for at in times:
        message = await enqueue(session, app.id, WebhookEvent.PING, events.ping(client_id), at)
        assert message is not None
        queued.append((at, message.id))
    await session.commit()
    return [message_id for _, message_id in sorted(queued, reverse=True)]


async def walk(client: httpx.AsyncClient, app: Hooked, limit: int) -> list[list[str]]:
    """Every page of the app's log, following `next_cursor`: the ids on each."""
    pages: list[list[str]] = []
    params = {"limit": str(limit)}
    while True:
        page = await log_page(client, app, **params)
        pages.append([message["id"] for message in page["messages"]])
        assert len(pages) <= 20, "the cursor does not advance"
        if page["next_cursor"] is None:
            return pages
        params = {"limit": str(limit), "cursor": page["next_cursor"]}


async def test_the_log_is_newest_first_a_page_at_a_time(
    client: httpx.AsyncClient, developer: DeveloperWithKey, hooked: Hooked, session: AsyncSession
) -> None:
    start = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)  # no microseconds: isoformat leaves them out
    times = [
        start,
        start,
        start,
        start + timedelta(microseconds=1),
        start + timedelta(seconds=1),
        start + timedelta(seconds=1),
        start - timedelta(days=1),
    ]
    expected = await queue(session, hooked.client_id, times)
    other = await register(client, developer, name="Other Planner")
    theirs = await queue(session, other.client_id, [start, start + timedelta(seconds=1)])

    pages = await walk(client, hooked, 3)
    assert [len(page) for page in pages] == [3, 3, 1]
    assert [message_id for page in pages for message_id in page] == expected  # each once, in order
    one_at_a_time = await walk(client, hooked, 1)
    assert [message_id for page in one_at_a_time for message_id in page] == expected

    whole = await log_page(client, hooked, limit="7")
    assert [message["id"] for message in whole["messages"]] == expected
    assert whole["next_cursor"] is None  # exactly the limit left: no empty page to follow
    created = [when(message["created_at"]) for message in whole["messages"]]
    assert created == sorted(created, reverse=True)
    assert await log_page(client, hooked) == whole  # the default limit (50) takes them all
    assert [message["id"] for message in (await log_page(client, other))["messages"]] == theirs


@pytest.mark.parametrize("limit", ["1", "200"])
async def test_the_limit_may_be_1_to_200(client: httpx.AsyncClient, hooked: Hooked, limit: str) -> None:
    await ping(client, hooked)
    await ping(client, hooked)
    page = await log_page(client, hooked, limit=limit)
    assert len(page["messages"]) == min(int(limit), 2)
    assert (page["next_cursor"] is None) == (limit == "200")


def forged_cursors(key: bytes, real: str) -> dict[str, str]:
    body, tag = real.split(".")
    position = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    moved = base64.urlsafe_b64encode(json.dumps({**position, "t": "2000-01-01T00:00:00+00:00"}).encode())
    # The first character: the last one of a base64 tag also holds padding bits, and changing only
    # those leaves the same bytes (and so a valid tag).
    flipped = ("A" if tag[0] != "A" else "B") + tag[1:]
    binding = {name: value for name, value in position.items() if name in {"c", "d"}}
    return {
        "not a cursor": "not-a-cursor",
        "another tag": f"{body}.{flipped}",
        "another position under the old tag": f"{moved.decode().rstrip('=')}.{tag}",
        "no tag": body,
        "a NUL": f"{body}\x00.{tag}",
        "another endpoint's": seal_cursor(
            key, {"t": position["t"], "i": position["i"]}, kind="receipts", **binding
        ),
        "another server's": seal_cursor(
            b"\x01" * 32, {"t": position["t"], "i": position["i"]}, kind="webhook-messages", **binding
        ),
        "a sealed position that is no position": seal_cursor(
            key, {"t": "yesterday", "i": 7}, kind="webhook-messages", **binding
        ),
    }


async def test_a_forged_cursor_is_400(
    client: httpx.AsyncClient, hooked: Hooked, session: AsyncSession, keyring: Keyring
) -> None:
    await ping(client, hooked)
    await ping(client, hooked)
    real = (await log_page(client, hooked, limit="1"))["next_cursor"]
    assert real is not None
    key = await keyring.secret(session, CURSOR_SECRET)
    for what, cursor in forged_cursors(key, real).items():
        response = await client.get(
            hooked.url("/webhook-deliveries"), params={"cursor": cursor}, headers=hooked.headers
        )
        body = problem(response, 400, "bad-request")
        assert parameters(body) == [("cursor", "query")], what
        assert cursor not in response.text


async def test_a_cursor_made_for_another_app_is_400(
    client: httpx.AsyncClient, developer: DeveloperWithKey, hooked: Hooked, theirs: Hooked
) -> None:
    mine = await register(client, developer, name="Second Planner")
    for app in (hooked, mine, theirs):
        await ping(client, app)
        await ping(client, app)
    cursors = {
        app.client_id: (await log_page(client, app, limit="1"))["next_cursor"]
        for app in (hooked, mine, theirs)
    }
    for made_for, used_on in ((mine, hooked), (theirs, hooked), (hooked, mine)):
        response = await client.get(
            used_on.url("/webhook-deliveries"),
            params={"cursor": cursors[made_for.client_id]},
            headers=used_on.headers,
        )
        assert parameters(problem(response, 400, "bad-request")) == [("cursor", "query")]
    # and each opens where it was made
    follow = await log_page(client, hooked, limit="1", cursor=cursors[hooked.client_id])
    assert len(follow["messages"]) == 1


# --- one message, and redelivery ----------------------------------------------------------------------------


async def test_a_message_shows_the_json_body_sent(
    client: httpx.AsyncClient, hooked: Hooked, session: AsyncSession
) -> None:
    queued = await ping(client, hooked)
    response = await client.get(
        hooked.url("/webhook-deliveries/{message_id}", message_id=queued["id"]), headers=hooked.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == MESSAGE_FIELDS | {"payload"}
    assert {name: body[name] for name in MESSAGE_FIELDS} == queued
    row = await stored_message(session, queued["id"])
    assert body["payload"] == json.loads(row.payload)
    assert body["payload"]["type"] == "ping"
    assert body["payload"]["data"] == events.ping(hooked.client_id)
    assert when(body["payload"]["timestamp"]) == when(queued["created_at"])


@pytest.mark.parametrize("outcome", ["delivered", "failed"])
async def test_redelivering_makes_a_message_pending_again(
    client: httpx.AsyncClient, hooked: Hooked, session: AsyncSession, outcome: str
) -> None:
    queued = await ping(client, hooked)
    row = await stored_message(session, queued["id"])
    sent = utcnow() - timedelta(hours=1)
    row.attempts, row.last_attempt_at, row.next_attempt_at = 1, sent, None
    if outcome == "delivered":
        row.delivered_at, row.last_status = sent, 204
    else:
        row.failed_at, row.last_status, row.last_error = sent, 500, "answered 500"
    await session.commit()
    url = hooked.url("/webhook-deliveries/{message_id}", message_id=queued["id"])
    assert (await client.get(url, headers=hooked.headers)).json()["state"] == outcome

    before = utcnow()
    response = await client.post(url + "/redeliver", headers=hooked.headers)
    assert response.status_code == 202, response.text
    body = response.json()
    assert set(body) == MESSAGE_FIELDS
    assert body["id"] == queued["id"]  # the same webhook-id: the app deduplicates by it
    assert body["state"] == "pending"
    assert body["delivered_at"] is None
    assert body["failed_at"] is None
    assert when(body["next_attempt_at"]) >= before
    assert body["attempts"] == 1  # the history stays
    assert when(body["last_attempt_at"]) == sent
    shown = (await client.get(url, headers=hooked.headers)).json()
    assert {name: shown[name] for name in MESSAGE_FIELDS} == body
    row = await stored_message(session, queued["id"])
    assert row.delivered_at is None
    assert row.failed_at is None
    assert row.next_attempt_at is not None
    assert row.next_attempt_at <= utcnow()  # due now


async def loopback(host: str, port: int) -> list[str]:
    """A resolver sending every name to loopback: the gateway refuses to call it, so nothing leaves."""
    return ["127.0.0.1"]


@pytest.mark.parametrize("how", ["redeliver", "ping"])
async def test_redelivering_or_pinging_enables_a_disabled_endpoint(
    client: httpx.AsyncClient,
    hooked: Hooked,
    session: AsyncSession,
    keyring: Keyring,
    test_database: Database,
    how: str,
) -> None:
    queued = await ping(client, hooked)
    app = await stored_app(session, hooked.client_id)
    disabled = utcnow() - timedelta(minutes=5)
    session.add(
        WebhookEndpoint(
            app_id=app.id,
            failing_since=disabled - timedelta(days=3),
            disabled_at=disabled,
            disabled_reason="every delivery failed for 3 days",
        )
    )
    row = await stored_message(session, queued["id"])
    row.failed_at, row.next_attempt_at, row.last_error = disabled, None, "endpoint disabled"
    await session.commit()
    state = await endpoint(client, hooked)
    assert state["enabled"] is False
    assert when(state["disabled_at"]) == disabled
    assert state["disabled_reason"] == "every delivery failed for 3 days"
    assert when(state["failing_since"]) == disabled - timedelta(days=3)

    if how == "redeliver":
        url = hooked.url("/webhook-deliveries/{message_id}/redeliver", message_id=queued["id"])
        response = await client.post(url, headers=hooked.headers)
        assert response.status_code == 202, response.text
        sent_id = queued["id"]
    else:
        sent_id = (await ping(client, hooked))["id"]
    state = await endpoint(client, hooked)
    assert state["enabled"] is True
    assert state["disabled_at"] is None
    assert state["disabled_reason"] is None
    assert state["failing_since"] is None

    # The worker now tries it (and is refused the loopback address) rather than dropping it unsent.
    report = await deliver_due(test_database.sessionmaker, keyring, Outbound(resolver=loopback))
    assert report.claimed == 1
    sent = await stored_message(session, sent_id)
    assert sent.attempts == 1
    assert sent.last_error == "loopback address"


async def test_redelivering_when_the_app_has_no_webhook_url_is_409(
    client: httpx.AsyncClient, hooked: Hooked, session: AsyncSession, connection: AsyncConnection
) -> None:
    queued = await ping(client, hooked)
    patched = await client.patch(
        f"{APPS}/{hooked.client_id}", json={"webhook_url": None}, headers=hooked.headers
    )
    assert patched.status_code == 200, patched.text
    row = await stored_message(session, queued["id"])
    row.failed_at, row.next_attempt_at, row.last_error = utcnow(), None, "no webhook URL"
    await session.commit()
    before = await Snapshot.take(connection)
    url = hooked.url("/webhook-deliveries/{message_id}/redeliver", message_id=queued["id"])
    problem(await client.post(url, headers=hooked.headers), 409, "no-webhook-url")
    await before.unchanged(connection)


# --- whose: another developer's app, another app's message, no key ------------------------------------------


def without_request_id(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    body.pop("request_id", None)
    return body


@pytest.mark.parametrize(("method", "rest"), ROUTES, ids=ROUTE_IDS)
async def test_another_developers_app_is_404(
    client: httpx.AsyncClient,
    hooked: Hooked,
    theirs: Hooked,
    connection: AsyncConnection,
    method: str,
    rest: str,
) -> None:
    their_message = (await ping(client, theirs))["id"]
    before = await Snapshot.take(connection)
    url = hooked.url(rest, client_id=theirs.client_id, message_id=their_message)
    response = await client.request(method, url, headers=hooked.headers)
    problem(response, 404, "not-found")
    unknown = await client.request(
        method,
        hooked.url(rest, client_id="gw_app_" + "0" * 16, message_id=their_message),
        headers=hooked.headers,
    )
    assert without_request_id(response) == without_request_id(unknown)  # no hint that it exists
    assert theirs.client_id not in response.text
    await before.unchanged(connection)


@pytest.mark.parametrize(("method", "rest"), MESSAGE_ROUTES, ids=MESSAGE_ROUTE_IDS)
@pytest.mark.parametrize("whose", ["my other app's", "another developer's app's"])
async def test_another_apps_message_is_404(
    client: httpx.AsyncClient,
    developer: DeveloperWithKey,
    hooked: Hooked,
    theirs: Hooked,
    connection: AsyncConnection,
    method: str,
    rest: str,
    whose: str,
) -> None:
    other = theirs if whose.startswith("another") else await register(client, developer, name="Other Planner")
    await ping(client, hooked)
    other_message = (await ping(client, other))["id"]
    before = await Snapshot.take(connection)
    response = await client.request(
        method, hooked.url(rest, message_id=other_message), headers=hooked.headers
    )
    problem(response, 404, "not-found")
    unknown = await client.request(
        method, hooked.url(rest, message_id=UNKNOWN_MESSAGE), headers=hooked.headers
    )
    assert without_request_id(response) == without_request_id(unknown)
    await before.unchanged(connection)


@pytest.mark.parametrize(("method", "rest"), ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer gw_dk_ABCDEFGHJKLM_" + "a" * 43, "Bearer not-a-key", "Basic dXNlcjpwYXNz"],
    ids=["no key", "unknown key", "malformed key", "basic"],
)
async def test_without_a_valid_developer_key_401(
    client: httpx.AsyncClient,
    hooked: Hooked,
    connection: AsyncConnection,
    method: str,
    rest: str,
    authorization: str | None,
) -> None:
    message = (await ping(client, hooked))["id"]
    before = await Snapshot.take(connection)
    headers = {} if authorization is None else {"authorization": authorization}
    response = await client.request(method, hooked.url(rest, message_id=message), headers=headers)
    problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")
    await before.unchanged(connection)


async def test_a_revoked_developer_key_is_401(
    client: httpx.AsyncClient, hooked: Hooked, connection: AsyncConnection
) -> None:
    rotated = await client.post("/developer/v1/keys/rotate", headers=hooked.headers)
    assert rotated.status_code == 201, rotated.text
    before = await Snapshot.take(connection)
    for method, rest in ROUTES:
        problem(await client.request(method, hooked.url(rest), headers=hooked.headers), 401, "unauthorized")
    await before.unchanged(connection)
    fresh = Hooked(hooked.client_id, rotated.json()["key"], hooked.webhook_secret)
    assert (await endpoint(client, fresh))["client_id"] == hooked.client_id


# --- wrong, oversized and hostile input ---------------------------------------------------------------------


@pytest.mark.parametrize(("method", "rest"), MESSAGE_ROUTES, ids=MESSAGE_ROUTE_IDS)
@pytest.mark.parametrize(
    "message_id",
    [
        "msg_",
        "msg_ABC123",
        "MSG_abc123",
        "msg-abc123",
        "abc123",
        "msg_abc123g",
        "msg_abc%0A",
        "msg_abc%20",
        "%20msg_abc",
        "msg_abc%00",
        "%00",
        "msg_" + "a" * 37,
        "msg_" + "a" * 10_000,
        "msg_%ED%A0%80",
    ],
    ids=[
        "empty hex",
        "upper case",
        "upper prefix",
        "hyphen",
        "no prefix",
        "not hex",
        "newline",
        "space after",
        "space before",
        "NUL",
        "only NUL",
        "41 characters",
        "10 KB",
        "undecodable bytes",
    ],
)
async def test_a_malformed_message_id_is_422(
    client: httpx.AsyncClient,
    hooked: Hooked,
    connection: AsyncConnection,
    method: str,
    rest: str,
    message_id: str,
) -> None:
    await ping(client, hooked)
    before = await Snapshot.take(connection)
    response = await client.request(method, hooked.url(rest, message_id=message_id), headers=hooked.headers)
    body = problem(response, 422, "validation-error")
    assert parameters(body) == [("message_id", "path")]
    assert "aaaaaaaaaa" not in response.text
    await before.unchanged(connection)


@pytest.mark.parametrize(("method", "rest"), MESSAGE_ROUTES, ids=MESSAGE_ROUTE_IDS)
async def test_a_message_id_of_40_characters_is_looked_up(
    client: httpx.AsyncClient, hooked: Hooked, method: str, rest: str
) -> None:
    response = await client.request(
        method, hooked.url(rest, message_id="msg_" + "a" * 36), headers=hooked.headers
    )
    problem(response, 404, "not-found")


@pytest.mark.parametrize(("method", "rest"), ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize("length", [33, 10_000])
async def test_a_client_id_over_32_characters_is_422(
    client: httpx.AsyncClient,
    hooked: Hooked,
    connection: AsyncConnection,
    method: str,
    rest: str,
    length: int,
) -> None:
    message = (await ping(client, hooked))["id"]
    before = await Snapshot.take(connection)
    too_long = hooked.client_id + "a" * (length - len(hooked.client_id))
    response = await client.request(
        method, hooked.url(rest, client_id=too_long, message_id=message), headers=hooked.headers
    )
    body = problem(response, 422, "validation-error")
    assert parameters(body) == [("client_id", "path")]
    assert too_long not in response.text
    await before.unchanged(connection)
    exactly_32 = "gw_app_" + "0" * 25
    at_limit = await client.request(method, hooked.url(rest, client_id=exactly_32), headers=hooked.headers)
    problem(at_limit, 404, "not-found")


@pytest.mark.parametrize(("method", "rest"), ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize("segment", ["%00", "gw_app_%00", "gw_app_a%00b"])
async def test_a_nul_in_the_client_id_is_400_unstorable(
    client: httpx.AsyncClient,
    hooked: Hooked,
    connection: AsyncConnection,
    method: str,
    rest: str,
    segment: str,
) -> None:
    message = (await ping(client, hooked))["id"]
    before = await Snapshot.take(connection)
    response = await client.request(
        method, hooked.url(rest, client_id=segment, message_id=message), headers=hooked.headers
    )
    problem(response, 400, "unstorable-value")
    assert "\x00" not in response.text
    await before.unchanged(connection)


@pytest.mark.parametrize(("method", "rest"), ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("foo=1", "foo"),
        ("client_id=x", "client_id"),
        ("a%00b=1", "(unprintable name)"),
        ("x" * 100 + "=1", None),
    ],
    ids=["unknown", "a path parameter's name", "NUL in the name", "a long name"],
)
async def test_an_unknown_query_parameter_is_400(
    client: httpx.AsyncClient,
    hooked: Hooked,
    connection: AsyncConnection,
    method: str,
    rest: str,
    query: str,
    named: str | None,
) -> None:
    message = (await ping(client, hooked))["id"]
    before = await Snapshot.take(connection)
    response = await client.request(
        method, f"{hooked.url(rest, message_id=message)}?{query}", headers=hooked.headers
    )
    body = problem(response, 400, "bad-request")
    assert parameters(body) == [(named or "(unprintable name)", "query")]
    assert "x" * 100 not in response.text
    await before.unchanged(connection)


@pytest.mark.parametrize(
    ("query", "named"),
    [("limit=1&limit=2", "limit"), ("limit=5&limit=5", "limit"), ("cursor=a.b&cursor=a.b", "cursor")],
)
async def test_a_repeated_query_parameter_is_400(
    client: httpx.AsyncClient, hooked: Hooked, query: str, named: str
) -> None:
    await ping(client, hooked)
    response = await client.get(f"{hooked.url('/webhook-deliveries')}?{query}", headers=hooked.headers)
    assert parameters(problem(response, 400, "bad-request")) == [(named, "query")]


@pytest.mark.parametrize("limit", ["0", "201", "-1", "x", "1.5", "", str(2**64), str(-(2**64)), "1%00"])
async def test_a_limit_outside_1_to_200_is_422(client: httpx.AsyncClient, hooked: Hooked, limit: str) -> None:
    await ping(client, hooked)
    response = await client.get(f"{hooked.url('/webhook-deliveries')}?limit={limit}", headers=hooked.headers)
    assert parameters(problem(response, 422, "validation-error")) == [("limit", "query")]


@pytest.mark.parametrize("cursor", ["", "a" * 1025], ids=["empty", "over 1,024 characters"])
async def test_an_empty_or_oversized_cursor_is_422(
    client: httpx.AsyncClient, hooked: Hooked, cursor: str
) -> None:
    response = await client.get(
        f"{hooked.url('/webhook-deliveries')}?cursor={cursor}", headers=hooked.headers
    )
    assert parameters(problem(response, 422, "validation-error")) == [("cursor", "query")]
    assert "a" * 100 not in response.text


@pytest.mark.parametrize(("method", "rest"), POSTS, ids=POST_IDS)
@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"please", "text/plain"),
        (b"webhook_url=https%3A%2F%2Fevil.example%2F", "application/x-www-form-urlencoded"),
        (b'{"webhook_url": "https://evil.example/"}', "text/plain"),
        (b"\x00\xff", "application/octet-stream"),
    ],
    ids=["text", "form", "JSON sent as text", "bytes"],
)
async def test_a_body_that_is_not_json_is_415(
    client: httpx.AsyncClient,
    hooked: Hooked,
    connection: AsyncConnection,
    method: str,
    rest: str,
    content: bytes,
    content_type: str,
) -> None:
    message = (await ping(client, hooked))["id"]
    before = await Snapshot.take(connection)
    response = await client.request(
        method,
        hooked.url(rest, message_id=message),
        content=content,
        headers={**hooked.headers, "content-type": content_type},
    )
    problem(response, 415, "unsupported-media-type")
    await before.unchanged(connection)


@pytest.mark.parametrize(("method", "rest"), POSTS, ids=POST_IDS)
@pytest.mark.parametrize(
    "content",
    [
        b"{}",
        b'{"webhook_url": "https://evil.example/", "url": "https://evil.example/", "event_type": "x"}',
        b'{"a": ',
    ],
    ids=["empty object", "fields", "malformed"],
)
async def test_a_json_body_is_ignored_like_on_the_other_calls_that_take_none(
    client: httpx.AsyncClient,
    hooked: Hooked,
    session: AsyncSession,
    method: str,
    rest: str,
    content: bytes,
) -> None:
    """These calls take no body. Like `POST /developer/v1/apps/{client_id}/secret` and
    `POST /developer/v1/keys/rotate`, a body sent as JSON is not read (a body in another type is 415)."""
    json_type = {**hooked.headers, "content-type": "application/json"}
    app_secret = await client.post(f"{APPS}/{hooked.client_id}/secret", content=content, headers=json_type)
    assert app_secret.status_code == 201, app_secret.text  # the convention this follows
    message = (await ping(client, hooked))["id"]
    response = await client.request(
        method, hooked.url(rest, message_id=message), content=content, headers=json_type
    )
    assert response.status_code == (201 if rest == "/webhook-secret" else 202), response.text
    assert "evil.example" not in response.text
    assert (await endpoint(client, hooked))["url"] == HOOK_URL
    for row in await session.scalars(select(WebhookMessage).execution_options(populate_existing=True)):
        assert row.url == HOOK_URL
        assert row.event_type == "ping"


@pytest.mark.parametrize(
    ("method", "rest"),
    [pytest.param(method, rest) for method, rest in ROUTES],
    ids=ROUTE_IDS,
)
async def test_a_400_is_a_documented_status(
    client: httpx.AsyncClient, app: FastAPI, hooked: Hooked, method: str, rest: str
) -> None:
    """The 400s above (a NUL in the client_id, an unknown query parameter) are in the operation's
    OpenAPI `responses`, as every other status these tests meet is."""
    message = (await ping(client, hooked))["id"]
    nul = await client.request(
        method, hooked.url(rest, client_id="gw_app_%00", message_id=message), headers=hooked.headers
    )
    unknown = await client.request(
        method, hooked.url(rest, message_id=message) + "?foo=1", headers=hooked.headers
    )
    assert (nul.status_code, unknown.status_code) == (400, 400)
    operation = app.openapi()["paths"]["/developer/v1/apps/{client_id}" + rest][method.lower()]
    met = {"400", "401", "404", "422"} | ({"415"} if method == "POST" else set())
    met |= {"409"} if rest in {"/ping", "/webhook-deliveries/{message_id}/redeliver"} else set()
    assert sorted(met - set(operation["responses"])) == []
