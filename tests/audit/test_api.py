"""`GET /manage/v1/audit-log`: one school's chain, filtered and paged, never another's (SPEC §4, §5)."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.accounts.sessions import Stage
from gateway.audit.chain import GENESIS_HASH
from gateway.audit.events import EventType, admin, app
from gateway.audit.service import record_event
from gateway.db.base import utcnow
from gateway.keys.keyring import Keyring
from tests.support.accounts import Account, make_account, session_cookie, set_session_cookie
from tests.support.http import bearer
from tests.support.school_keys import issue_key

URL = "/manage/v1/audit-log"


async def seed(session: AsyncSession, owner: Account, app_id: uuid.UUID) -> None:
    """Five events beside the key's own `api_key.created`: two naming `app_id`, one ten days old."""
    school_id = owner.school.id
    old = utcnow() - timedelta(days=10)
    await record_event(
        session,
        school_id=school_id,
        event_type=EventType.REQUEST_CREATED,
        actor=app("client-a"),
        details={"app_id": str(app_id), "scopes": "school"},
        occurred_at=old,
    )
    await record_event(
        session,
        school_id=school_id,
        event_type=EventType.GRANT_APPROVED,
        actor=admin(owner.admin.id),
        details={"app_id": str(app_id), "grant_id": str(uuid.uuid4())},
    )
    await record_event(
        session,
        school_id=school_id,
        event_type=EventType.GRANT_APPROVED,
        actor=admin(owner.admin.id),
        details={"app_id": str(uuid.uuid4()), "grant_id": str(uuid.uuid4())},
    )
    await record_event(
        session, school_id=school_id, event_type=EventType.ADMIN_LOGIN, actor=admin(owner.admin.id)
    )
    await record_event(session, school_id=school_id, event_type=EventType.PURGE, actor="system")
    await session.commit()


async def listed(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = await client.get(URL, params=params, headers=headers)
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["events"]
    return events


async def test_filters_chain_fields_and_isolation(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    owner = await make_account(session, "head@auditlog.example.org")
    other = await make_account(session, "head@elsewhere-audit.example.org")
    app_id = uuid.uuid4()
    token = await issue_key(session, keyring, owner)
    await seed(session, owner, app_id)
    other_token = await issue_key(session, keyring, other)
    await seed(session, other, app_id)
    headers = bearer(token)

    events = await listed(client, headers)
    assert [e["seq"] for e in events] == [6, 5, 4, 3, 2, 1]  # newest first, this school only
    assert events[-1]["event_type"] == "api_key.created"
    assert events[-1]["actor"] == admin(owner.admin.id)
    assert events[-1]["prev_hash"] == GENESIS_HASH
    for newer, older in itertools.pairwise(events):
        assert newer["prev_hash"] == older["hash"]
    assert events[0]["occurred_at"].endswith("Z")
    assert events[3]["details"]["app_id"] == str(app_id)

    assert [e["seq"] for e in await listed(client, headers, event_type="grant.approved")] == [4, 3]
    assert [e["seq"] for e in await listed(client, headers, app_id=str(app_id))] == [3, 2]
    assert [e["seq"] for e in await listed(client, headers, actor="app:client-a")] == [2]
    assert [e["seq"] for e in await listed(client, headers, actor="system")] == [6]
    cut = (utcnow() - timedelta(days=1)).isoformat()
    assert [e["seq"] for e in await listed(client, headers, until=cut)] == [2]
    assert 2 not in [e["seq"] for e in await listed(client, headers, since=cut)]

    # The other school's key sees its own six events, none of this school's.
    theirs = await listed(client, bearer(other_token))
    assert {e["id"] for e in theirs}.isdisjoint({e["id"] for e in events})
    assert len(theirs) == 6

    # An admin session reads the same chain as the school's key.
    cookie, _csrf = await session_cookie(session, owner, Stage.FULL)
    set_session_cookie(browser, cookie)
    assert [e["id"] for e in await listed(browser, {})] == [e["id"] for e in events]


async def test_pages_and_cursors(client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring) -> None:
    owner = await make_account(session, "head@pages-audit.example.org")
    other = await make_account(session, "head@pages-other.example.org")
    token = await issue_key(session, keyring, owner)
    other_token = await issue_key(session, keyring, other)
    await seed(session, owner, uuid.uuid4())
    await seed(session, other, uuid.uuid4())
    headers = bearer(token)

    seen: list[int] = []
    params: dict[str, Any] = {"limit": 4}
    while True:
        response = await client.get(URL, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [e["seq"] for e in body["events"]]
        if body["next_cursor"] is None:
            assert "link" not in response.headers
            break
        assert 'rel="next"' in response.headers["link"]
        params = {"limit": 4, "cursor": body["next_cursor"]}
    assert seen == [6, 5, 4, 3, 2, 1]

    first = (await client.get(URL, params={"limit": 2}, headers=headers)).json()["next_cursor"]
    # Another school's key, another query, or an altered cursor: refused, nothing leaks.
    for attempt_headers, attempt_params in [
        (bearer(other_token), {"limit": 2, "cursor": first}),
        (headers, {"limit": 2, "cursor": first, "event_type": "admin.login"}),
        (headers, {"limit": 2, "cursor": first[:-2] + ("AA" if first[-2:] != "AA" else "BB")}),
        (headers, {"limit": 2, "cursor": "not-a-cursor"}),
    ]:
        refused = await client.get(URL, params=attempt_params, headers=attempt_headers)
        assert refused.status_code == 400, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")


async def test_hostile_input(client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring) -> None:
    owner = await make_account(session, "head@hostile-audit.example.org")
    headers = bearer(await issue_key(session, keyring, owner))
    statuses = {
        "actor=admin%00x": 400,  # NUL: refused before any query
        "actor=" + "a" * 81: 422,
        "event_type=not.a.type": 422,
        "event_type=grant.approved%00": 422,
        "app_id=12": 422,
        "since=yesterday": 422,
        "limit=0": 422,
        "limit=1001": 422,
        "limit=99999999999999999999999": 422,
        "limit=ten": 422,
        "cursor=" + "A" * 2000: 422,
        "cursor=": 422,
        "school_id=" + str(uuid.uuid4()): 400,
        "limit=1&limit=2": 400,
    }
    for query, expected in statuses.items():
        response = await client.get(f"{URL}?{query}", headers=headers)
        assert response.status_code == expected, (query, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    anonymous = await client.get(URL)
    assert anonymous.status_code == 401


async def test_another_schools_admin_reads_only_their_own(
    browser: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    owner = await make_account(session, "head@own-audit.example.org")
    other = await make_account(session, "head@not-own-audit.example.org")
    await issue_key(session, keyring, owner)
    await seed(session, owner, uuid.uuid4())
    cookie, _csrf = await session_cookie(session, other, Stage.FULL)
    set_session_cookie(browser, cookie)
    assert await listed(browser, {}) == []
