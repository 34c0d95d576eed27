"""`/manage/v1/grants`: list, read, narrow and revoke, with a school API key or an admin session + CSRF.

Narrowing and revoking reach tokens already issued on their very next request: the check every data API
request makes (`oauth.bearer.authenticate`, behind `SchoolTokenDep`) is run right after each change.
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.models import AuditEvent
from gateway.consent.audience import Audience
from gateway.consent.models import Grant, SensitiveApproval
from gateway.db.session import Database
from gateway.http.cursors import MAX_CURSOR_LENGTH
from gateway.keys.keyring import Keyring
from gateway.oauth.bearer import InvalidToken
from gateway.settings import Settings
from gateway.tokens.models import RefreshToken
from tests.support.audit import events_of
from tests.support.consent_flow import make_party
from tests.support.grants import (
    GRANTED,
    PUPILS,
    Connected,
    connect,
    mint,
    record_access,
    sign_in_admin,
    token_check,
)
from tests.support.school_keys import prefix_of

pytestmark = pytest.mark.usefixtures("fresh_jwks_cache")

LIST = "/manage/v1/grants"


async def test_list_shows_live_grants_with_their_app_and_last_access(
    client: httpx.AsyncClient, session: AsyncSession, connected: Connected
) -> None:
    listed = await client.get(LIST, headers=connected.headers)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["next_cursor"] is None
    [item] = body["grants"]
    assert item["id"] == str(connected.grant.id)
    assert item["app"] == {
        "client_id": connected.party.app.client_id,
        "name": "Homework Planner",
        "developer_name": "Synthetic Apps Ltd",
    }
    assert item["scopes"] == list(GRANTED)
    assert item["audience_kind"] == "school"
    assert item["revoked_at"] is None
    assert item["last_access_at"] is None

    access = await record_access(session, connected)
    item = (await client.get(LIST, headers=connected.headers)).json()["grants"][0]
    assert datetime.fromisoformat(item["last_access_at"]) == access.occurred_at


async def test_list_by_state_and_in_pages(
    client: httpx.AsyncClient, session: AsyncSession, connected: Connected
) -> None:
    first = connected.grant.id
    assert (await client.post(f"{connected.url}/revoke", headers=connected.headers)).status_code == 200
    second = (await connect(session, connected.party)).grant.id

    def ids(response: httpx.Response) -> list[str]:
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["grants"]]

    headers = connected.headers
    assert ids(await client.get(LIST, headers=headers)) == [str(second)]
    assert ids(await client.get(LIST, params={"state": "revoked"}, headers=headers)) == [str(first)]
    assert ids(await client.get(LIST, params={"state": "all"}, headers=headers)) == [str(second), str(first)]
    page = await client.get(LIST, params={"state": "all", "limit": 1}, headers=headers)
    assert ids(page) == [str(second)]
    cursor = page.json()["next_cursor"]
    rest = await client.get(LIST, params={"state": "all", "limit": 1, "cursor": cursor}, headers=headers)
    assert ids(rest) == [str(first)]
    assert rest.json()["next_cursor"] is None


async def test_a_forged_or_another_schools_cursor_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, connected: Connected, other_connected: Connected
) -> None:
    for owner in (connected, other_connected):  # three grants at each school: two revoked, one live
        latest = owner
        for _ in range(2):
            assert (await client.post(f"{latest.url}/revoke", headers=owner.headers)).status_code == 200
            latest = await connect(session, owner.party)

    async def walk(headers: dict[str, str], state: str = "all") -> tuple[list[str], list[str]]:
        """Every grant id, one per page, and each page's `next_cursor`."""
        seen: list[str] = []
        cursors: list[str] = []
        params: dict[str, Any] = {"state": state, "limit": 1}
        while True:
            response = await client.get(LIST, params=params, headers=headers)
            assert response.status_code == 200, response.text
            body = response.json()
            seen += [item["id"] for item in body["grants"]]
            if body["next_cursor"] is None:
                return seen, cursors
            cursors.append(body["next_cursor"])
            params = {"state": state, "limit": 1, "cursor": body["next_cursor"]}

    seen, cursors = await walk(connected.headers)
    assert len(seen) == len(set(seen)) == 3
    _theirs, their_cursors = await walk(other_connected.headers)
    _revoked, revoked_cursors = await walk(connected.headers, "revoked")
    newest = await session.get(Grant, uuid.UUID(seen[0]))
    assert newest is not None
    unsealed = f"{newest.created_at.isoformat()}|{newest.id}".encode()  # the cursor this list used to give
    changed = cursors[0][:4] + ("A" if cursors[0][4] != "A" else "B") + cursors[0][5:]
    school = connected.party.school.id
    count_events = select(func.count()).select_from(AuditEvent).where(AuditEvent.school_id == school)
    events = await session.scalar(count_events)
    refusals = [
        their_cursors[0],  # valid, but another school's
        revoked_cursors[0],  # this school's, but for another query (`state=revoked`)
        base64.urlsafe_b64encode(unsealed).rstrip(b"=").decode(),
        changed,  # one character changed
    ]
    for cursor in refusals:
        response = await client.get(
            LIST, params={"state": "all", "limit": 1, "cursor": cursor}, headers=connected.headers
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert [(e["parameter"], e["in"]) for e in response.json()["errors"]] == [("cursor", "query")]
    # Nothing else changed: no event, and the same pages with the same cursors.
    assert await session.scalar(count_events) == events
    assert await walk(connected.headers) == (seen, cursors)


@pytest.mark.parametrize(
    "params",
    [
        {"state": "dead"},
        {"limit": "0"},
        {"limit": "501"},
        {"limit": "ten"},
        {"cursor": "not-a-cursor"},
        {"cursor": "x" * (MAX_CURSOR_LENGTH + 1)},
        {"cursor": "MjAyNi0wMS0wMXxub3QtYS11dWlk"},  # "2026-01-01|not-a-uuid"
    ],
)
async def test_list_refuses_bad_parameters(
    client: httpx.AsyncClient, connected: Connected, params: dict[str, str]
) -> None:
    response = await client.get(LIST, params=params, headers=connected.headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["in"] == "query"


async def test_read_shows_scopes_approvals_audience_tokens_and_last_access(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, connected: Connected
) -> None:
    empty = (await client.get(connected.url, headers=connected.headers)).json()
    assert empty["tokens"] == {"refresh_token_families": 0, "access_tokens": 0}
    assert empty["last_access_at"] is None

    await mint(session, settings, connected)
    await mint(session, settings, connected)
    await record_access(session, connected)
    response = await client.get(connected.url, headers=connected.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == str(connected.grant.id)
    assert body["app"]["client_id"] == connected.party.app.client_id
    assert [(s["name"], s["required"], s["sensitive"]) for s in body["scopes"]] == [
        ("school", True, False),
        ("groups", True, False),
        ("students.basic", True, False),
        ("students.demographics", False, False),
        ("students.sen", False, True),
    ]
    assert body["scopes"][4]["title"] == "Pupils: special educational needs"
    [approval] = body["sensitive_approvals"]
    assert approval["scope"] == "students.sen"
    assert approval["admin_id"] == str(connected.party.account.admin.id)
    assert body["audience"] == {
        "kind": "school",
        "groups": None,
        "excluded_count": 0,
        "excluded_student_ids": [],
    }
    assert body["tokens"] == {"refresh_token_families": 2, "access_tokens": 2}
    assert body["last_access_at"] is not None
    assert body["revoked_at"] is None
    assert body["revoked_by"] is None


async def test_read_names_the_groups_of_the_audience(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    party = await make_party(session, keyring, "head@groups.example.org")
    narrowed = await connect(session, party, audience={"groups": ["yr7", "gone"], "exclude": [PUPILS[0]]})
    body = (await client.get(narrowed.url, headers=narrowed.headers)).json()
    assert body["audience"] == {
        "kind": "groups",
        "groups": [{"id": "gone", "name": None}, {"id": "yr7", "name": "Year 7"}],  # by id, as stored
        "excluded_count": 1,
        "excluded_student_ids": [PUPILS[0]],
    }


async def test_narrowing_scopes_reaches_issued_tokens_at_once(
    client: httpx.AsyncClient,
    session: AsyncSession,
    settings: Settings,
    test_database: Database,
    connected: Connected,
) -> None:
    token = await mint(session, settings, connected)
    assert "students.sen" in (await token_check(test_database, settings, token)).scopes
    before = connected.grant.updated_at

    response = await client.post(
        f"{connected.url}/narrow", json={"remove_scopes": ["students.sen"]}, headers=connected.headers
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert "students.sen" not in [s["name"] for s in body["scopes"]]
    assert body["sensitive_approvals"] == []
    assert datetime.fromisoformat(body["updated_at"]) > before
    checked = await token_check(test_database, settings, token)
    assert checked.scopes == {"school", "groups", "students.basic", "students.demographics"}
    approvals = await session.scalars(
        select(SensitiveApproval.scope).where(SensitiveApproval.grant_id == connected.grant.id)
    )
    assert list(approvals) == []
    [(actor, details)] = await events_of(session, connected.grant.school_id, "grant.narrowed")
    assert actor == f"api_key:{prefix_of(connected.key)}"
    assert details == {
        "grant_id": str(connected.grant.id),
        "app_id": str(connected.party.app.id),
        "scopes_removed": "students.sen",
        "scopes": "school groups students.basic students.demographics",
        "audience": {"kind": "school", "excluded_count": 0},
    }


async def test_narrowing_the_audience_reaches_issued_tokens_at_once(
    client: httpx.AsyncClient,
    session: AsyncSession,
    settings: Settings,
    test_database: Database,
    connected: Connected,
) -> None:
    token = await mint(session, settings, connected)
    response = await client.post(
        f"{connected.url}/narrow",
        json={"audience": {"groups": ["yr7", "7a"], "exclude": [PUPILS[1]]}},
        headers=connected.headers,
    )
    assert response.status_code == 200, response.text
    audience = response.json()["audience"]
    assert audience["groups"] == [{"id": "7a", "name": "7A"}, {"id": "yr7", "name": "Year 7"}]
    assert audience["excluded_student_ids"] == [PUPILS[1]]
    checked = await token_check(test_database, settings, token)
    assert Audience.of(checked.grant).stored() == {"groups": ["7a", "yr7"], "exclude": [PUPILS[1]]}
    assert checked.scopes == set(GRANTED)

    # Then fewer groups and one more pupil hidden: still a narrowing.
    again = await client.post(
        f"{connected.url}/narrow",
        json={"audience": {"groups": ["yr7"], "exclude": [PUPILS[1], PUPILS[2]]}},
        headers=connected.headers,
    )
    assert again.status_code == 200, again.text
    [_, (_, details)] = await events_of(session, connected.grant.school_id, "grant.narrowed")
    assert details["audience"] == {
        "kind": "groups",
        "group_count": 1,
        "group_ids": ["yr7"],
        "excluded_count": 2,
    }
    assert details["scopes_removed"] == ""


@pytest.mark.parametrize(
    ("body", "pointer", "says"),
    [
        ({"remove_scopes": ["students.basic"]}, "#/remove_scopes/0", "revoke the grant instead"),
        ({"remove_scopes": ["groups"]}, "#/remove_scopes/0", "revoke the grant instead"),
        ({"remove_scopes": ["students.medical"]}, "#/remove_scopes/0", "does not hold"),
        ({"remove_scopes": ["students.nope"]}, "#/remove_scopes/0", "Not a scope"),
        (
            {"audience": {"groups": ["house-red"], "exclude": []}},
            "#/audience/groups",
            "not year, registration",
        ),
        ({"audience": {"groups": [], "exclude": []}}, "#/audience/groups", "at least one group"),
        ({"audience": {"groups": None, "exclude": ["stu-99999"]}}, "#/audience/exclude", "not on the school"),
        ({}, "#", "Nothing would change"),
        ({"remove_scopes": [], "audience": {"groups": None, "exclude": []}}, "#", "Nothing would change"),
    ],
)
async def test_narrow_refuses_what_is_not_a_narrowing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    connected: Connected,
    body: dict[str, object],
    pointer: str,
    says: str,
) -> None:
    response = await client.post(f"{connected.url}/narrow", json=body, headers=connected.headers)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["type"] == "urn:gateway:problem:narrowing-refused"
    assert [error["pointer"] for error in problem["errors"]] == [pointer]
    assert says in problem["errors"][0]["detail"]
    assert await events_of(session, connected.grant.school_id, "grant.narrowed") == []
    stored = await session.get(Grant, connected.grant.id, populate_existing=True)
    assert stored is not None
    assert stored.scopes == connected.grant.scopes
    assert stored.audience_json is None


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"audience": {"groups": None, "exclude": [PUPILS[0]]}}, "whole school would widen"),
        ({"audience": {"groups": ["yr7", "yr8"], "exclude": [PUPILS[0]]}}, "adding them widens"),
        ({"audience": {"groups": ["yr7"], "exclude": []}}, "would become visible"),
    ],
)
async def test_narrow_refuses_widening_the_audience(
    client: httpx.AsyncClient, session: AsyncSession, connected: Connected, body: dict[str, object], says: str
) -> None:
    first = await client.post(
        f"{connected.url}/narrow",
        json={"audience": {"groups": ["yr7"], "exclude": [PUPILS[0]]}},
        headers=connected.headers,
    )
    assert first.status_code == 200, first.text
    response = await client.post(f"{connected.url}/narrow", json=body, headers=connected.headers)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert says in error["detail"]
    assert "consent page" in error["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"remove_scopes": "students.sen"},
        {"remove_scopes": [1]},
        {"remove_scopes": ["Students.SEN"]},
        {"remove_scopes": ["x" * 41]},
        {"remove_scopes": ["students.sen"] * 26},
        {"audience": {"groups": ["yr7"]}},
        {"audience": {"exclude": []}},
        {"audience": {"groups": ["../../etc"], "exclude": []}},
        {"audience": {"groups": ["<script>"], "exclude": []}},
        {"audience": {"groups": ["a" * 65], "exclude": []}},
        {"audience": {"groups": None, "exclude": [f"s{i}" for i in range(2001)]}},
        {"audience": {"groups": ["yr7"], "exclude": [], "include": ["stu-1"]}},
        {"audience": "school"},
        {"scopes": ["school"]},
        [],
        None,
    ],
)
async def test_narrow_refuses_malformed_bodies(
    client: httpx.AsyncClient, session: AsyncSession, connected: Connected, body: object
) -> None:
    response = await client.post(f"{connected.url}/narrow", json=body, headers=connected.headers)
    assert response.status_code == 422, response.text
    assert response.json()["type"] == "urn:gateway:problem:validation-error"
    assert "<script>" not in response.text
    assert await events_of(session, connected.grant.school_id, "grant.narrowed") == []


async def test_narrow_refuses_bodies_that_are_not_json(
    client: httpx.AsyncClient, connected: Connected
) -> None:
    url = f"{connected.url}/narrow"
    form = await client.post(url, data={"remove_scopes": "students.sen"}, headers=connected.headers)
    assert form.status_code == 415
    broken = await client.post(
        url, content=b'{"remove_scopes": [', headers={**connected.headers, "content-type": "application/json"}
    )
    assert broken.status_code == 400
    assert broken.json()["type"] == "urn:gateway:problem:malformed-json"
    missing = await client.post(url, headers=connected.headers)
    assert missing.status_code == 422


async def test_revoke_ends_every_token_on_the_next_request(
    client: httpx.AsyncClient,
    session: AsyncSession,
    settings: Settings,
    test_database: Database,
    connected: Connected,
) -> None:
    token = await mint(session, settings, connected)
    await token_check(test_database, settings, token)

    response = await client.post(f"{connected.url}/revoke", headers=connected.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["revoked_at"] is not None
    assert body["revoked_by"] == f"api_key:{prefix_of(connected.key)}"
    assert body["tokens"] == {"refresh_token_families": 0, "access_tokens": 0}
    with pytest.raises(InvalidToken):
        await token_check(test_database, settings, token)
    refused = await client.post("/api/v1/app/disconnect", headers={"authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    refresh = await session.scalars(
        select(RefreshToken.revoked_at)
        .where(RefreshToken.grant_id == connected.grant.id)
        .execution_options(populate_existing=True)
    )
    assert all(at is not None for at in refresh)
    [(actor, details)] = await events_of(session, connected.grant.school_id, "grant.revoked")
    assert actor == f"api_key:{prefix_of(connected.key)}"
    assert details == {"grant_id": str(connected.grant.id), "app_id": str(connected.party.app.id)}

    # Ended: still readable, but neither narrowed nor revoked again.
    assert (await client.get(connected.url, headers=connected.headers)).json()["revoked_at"] is not None
    again = await client.post(f"{connected.url}/revoke", headers=connected.headers)
    assert again.status_code == 409
    assert again.json()["type"] == "urn:gateway:problem:grant-revoked"
    narrow = await client.post(
        f"{connected.url}/narrow", json={"remove_scopes": ["students.sen"]}, headers=connected.headers
    )
    assert narrow.status_code == 409
    assert len(await events_of(session, connected.grant.school_id, "grant.revoked")) == 1


async def test_an_admin_session_needs_the_csrf_header_to_change_a_grant(
    browser: httpx.AsyncClient, session: AsyncSession, connected: Connected
) -> None:
    csrf = await sign_in_admin(browser, connected.party)
    listed = await browser.get(LIST)
    assert [item["id"] for item in listed.json()["grants"]] == [str(connected.grant.id)]
    assert (await browser.get(connected.url)).status_code == 200

    body = {"remove_scopes": ["students.demographics"]}
    for headers in ({}, {"x-csrf-token": "wrong"}):
        refused = await browser.post(f"{connected.url}/narrow", json=body, headers=headers)
        assert refused.status_code == 403
        assert (await browser.post(f"{connected.url}/revoke", headers=headers)).status_code == 403
    narrowed = await browser.post(f"{connected.url}/narrow", json=body, headers={"x-csrf-token": csrf})
    assert narrowed.status_code == 200, narrowed.text
    revoked = await browser.post(f"{connected.url}/revoke", headers={"x-csrf-token": csrf})
    assert revoked.status_code == 200
    admin = f"admin:{connected.party.account.admin.id}"
    assert revoked.json()["revoked_by"] == admin
    school = connected.grant.school_id
    assert [actor for actor, _ in await events_of(session, school, "grant.narrowed")] == [admin]
    assert [actor for actor, _ in await events_of(session, school, "grant.revoked")] == [admin]


async def test_without_credentials_nothing_is_shown(client: httpx.AsyncClient, connected: Connected) -> None:
    for response in (
        await client.get(LIST),
        await client.get(connected.url),
        await client.post(f"{connected.url}/revoke"),
        await client.get(LIST, headers={"authorization": "Bearer gw_sk_nope"}),
    ):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"


async def test_another_schools_grant_is_not_found(
    client: httpx.AsyncClient,
    session: AsyncSession,
    settings: Settings,
    test_database: Database,
    connected: Connected,
    other_connected: Connected,
) -> None:
    token = await mint(session, settings, connected)
    theirs = other_connected.headers
    listed = (await client.get(LIST, params={"state": "all"}, headers=theirs)).json()["grants"]
    assert [item["id"] for item in listed] == [str(other_connected.grant.id)]
    unknown = f"/manage/v1/grants/{uuid.uuid4()}"
    for path, method, body in (
        ("", "GET", None),
        ("/narrow", "POST", {"remove_scopes": ["students.sen"]}),
        ("/revoke", "POST", None),
    ):
        foreign = await client.request(method, connected.url + path, json=body, headers=theirs)
        missing = await client.request(method, unknown + path, json=body, headers=theirs)
        assert foreign.status_code == missing.status_code == 404
        assert foreign.json()["type"] == missing.json()["type"] == "urn:gateway:problem:grant-not-found"
        assert foreign.json()["detail"] == missing.json()["detail"]
    assert (await token_check(test_database, settings, token)).scopes == set(GRANTED)
    assert await events_of(session, connected.grant.school_id, "grant.narrowed") == []
    assert await events_of(session, other_connected.grant.school_id, "grant.revoked") == []


@pytest.mark.parametrize("grant_id", ["not-a-uuid", "1", "' OR 1=1 --", "%00"])
async def test_malformed_grant_ids_are_refused(
    client: httpx.AsyncClient, connected: Connected, grant_id: str
) -> None:
    for method, suffix in (("GET", ""), ("POST", "/revoke")):
        response = await client.request(method, f"{LIST}/{grant_id}{suffix}", headers=connected.headers)
        assert response.status_code == 422, (grant_id, response.text)
        assert response.json()["errors"][0] == {
            "detail": response.json()["errors"][0]["detail"],
            "parameter": "grant_id",
            "in": "path",
        }
