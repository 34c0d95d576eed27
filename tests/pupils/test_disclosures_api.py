"""`GET /manage/v1/students/{id}/disclosures` (issue 13, item 4): which apps can see a pupil now, with which
fields, since when and approved by whom; which data API responses carried them. Wrong, missing, oversized and
hostile input; another school's pupils and reads never show."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.access_log.models import DataAccess, DataAccessPupil, DataAccessPupilSet
from gateway.db.base import utcnow
from gateway.mis.models import MisRecordRow
from gateway.settings import Settings
from tests.support.grants import Connected, connect, mint
from tests.support.http import bearer

PUPIL = "stu-00002"


def url(student_id: str = PUPIL) -> str:
    return f"/manage/v1/students/{student_id}/disclosures"


async def read(client: httpx.AsyncClient, token: str, path: str) -> tuple[str, dict[str, Any]]:
    """A data API read: its request id and body."""
    response = await client.get(path, headers=bearer(token))
    assert response.status_code == 200, response.text[:300]
    return response.headers["x-request-id"], response.json()


async def disclosures_of(
    client: httpx.AsyncClient, connected: Connected, student_id: str = PUPIL, **params: Any
) -> dict[str, Any]:
    response = await client.get(url(student_id), headers=connected.headers, params=params)
    assert response.status_code == 200, response.text[:300]
    body: dict[str, Any] = response.json()
    return body


async def test_a_pupil_read_names_the_app_the_response_and_what_it_can_see_now(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, connected: Connected
) -> None:
    token = await mint(session, settings, connected)
    request_id, page = await read(client, token, "/api/v1/students?limit=5")
    assert PUPIL in [record["id"] for record in page["data"]]

    body = await disclosures_of(client, connected)

    assert body["student_id"] == PUPIL
    (now,) = body["current_access"]
    app = connected.party.app
    assert now["app_id"] == str(app.id)
    assert now["client_id"] == app.client_id
    assert now["app_name"] == app.name
    assert now["grant_id"] == str(connected.grant.id)
    assert now["approved_by"] == str(connected.party.account.admin.id)
    assert "students.sen" in now["scopes"]
    assert "school" not in now["scopes"]
    assert "sen_provision" in now["fields"]["students"]
    assert "first_name" in now["fields"]["students"]
    assert now["fields"]["groups"] == ["student_ids"]  # membership is data about the pupil
    assert [a["scope"] for a in now["sensitive_approvals"]] == ["students.sen"]
    assert now["sensitive_approvals"][0]["admin_id"] == str(connected.party.account.admin.id)
    (sent,) = body["disclosures"]
    assert sent["request_id"] == request_id
    assert sent["resource"] == "students"
    assert sent["record_count"] == 5
    assert sent["client_id"] == app.client_id
    assert sent["grant_id"] == str(connected.grant.id)
    assert set(sent["fields"]) == set(page["data"][0]) - {"updated_at"}
    assert body["next_cursor"] is None


async def test_a_pupil_not_in_the_page_was_not_disclosed_but_can_be_seen(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, connected: Connected
) -> None:
    token = await mint(session, settings, connected)
    await read(client, token, "/api/v1/students?limit=5")
    body = await disclosures_of(client, connected, "stu-00009")
    assert body["disclosures"] == []
    assert [now["app_id"] for now in body["current_access"]] == [str(connected.party.app.id)]


async def test_a_group_listing_the_pupil_discloses_them_and_one_cut_away_does_not(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, party: Any
) -> None:
    excluded = "stu-00004"
    connected = await connect(session, party, audience={"groups": ["yr7"], "exclude": [excluded]})
    token = await mint(session, settings, connected)
    request_id, page = await read(client, token, "/api/v1/groups")
    listed = {pupil for group in page["data"] for pupil in group.get("student_ids", [])}
    assert PUPIL in listed
    assert excluded not in listed
    assert "stu-00007" not in listed

    carried = await disclosures_of(client, connected)
    assert [(d["resource"], d["request_id"]) for d in carried["disclosures"]] == [("groups", request_id)]
    for outside in (excluded, "stu-00007"):  # excluded, and in year 8
        body = await disclosures_of(client, connected, outside)
        assert body["disclosures"] == []
        assert body["current_access"] == []


async def test_a_revoked_grant_leaves_the_history_and_no_current_access(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, connected: Connected
) -> None:
    token = await mint(session, settings, connected)
    request_id, _page = await read(client, token, f"/api/v1/students/{PUPIL}")
    response = await client.post(f"{connected.url}/revoke", headers=connected.headers)
    assert response.status_code == 200, response.text[:300]
    body = await disclosures_of(client, connected)
    assert body["current_access"] == []
    assert [d["request_id"] for d in body["disclosures"]] == [request_id]


async def test_the_changes_feed_names_the_pupils_of_its_records_not_of_its_tombstones(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, connected: Connected
) -> None:
    token = await mint(session, settings, connected)
    first_id, first = await read(client, token, "/api/v1/changes?limit=1500")
    assert any(change.get("id") == PUPIL for change in first["changes"])
    narrowed = await client.post(
        f"{connected.url}/narrow",
        headers=connected.headers,
        json={"remove_scopes": [], "audience": {"groups": None, "exclude": [PUPIL]}},
    )
    assert narrowed.status_code == 200, narrowed.text[:300]
    cursor = first["next_cursor"]
    second_id, second = await read(client, token, f"/api/v1/changes?cursor={cursor}")
    assert {"resource": "students", "id": PUPIL, "deleted": True, "reason": "left_audience"} in second[
        "changes"
    ]

    body = await disclosures_of(client, connected)
    assert {d["request_id"] for d in body["disclosures"]} == {first_id}  # the tombstone carried no data
    assert body["current_access"] == []
    assert second_id != first_id


async def test_the_same_page_read_again_stores_its_pupils_once(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, connected: Connected
) -> None:
    token = await mint(session, settings, connected)
    for _ in range(3):
        await read(client, token, "/api/v1/students?limit=4")
    school = connected.party.school.id
    sets = await session.scalar(
        select(func.count()).select_from(DataAccessPupilSet).where(DataAccessPupilSet.school_id == school)
    )
    members = await session.scalar(
        select(func.count()).select_from(DataAccessPupil).where(DataAccessPupil.school_id == school)
    )
    named = await session.scalars(select(DataAccess.pupil_set).where(DataAccess.school_id == school))
    assert (sets, members) == (1, 4)
    assert len(set(named)) == 1


async def test_pages_of_disclosures_follow_the_cursor(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, connected: Connected
) -> None:
    token = await mint(session, settings, connected)
    ids = [(await read(client, token, f"/api/v1/students/{PUPIL}"))[0] for _ in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get(url(), headers=connected.headers, params=params)
        assert response.status_code == 200
        body = response.json()
        seen.extend(d["request_id"] for d in body["disclosures"])
        cursor = body["next_cursor"]
        if cursor is None:
            assert "link" not in response.headers
            break
        assert 'rel="next"' in response.headers["link"]
    assert seen == list(reversed(ids))  # newest first, each once


async def test_another_schools_reads_of_the_same_pupil_id_never_show(
    client: httpx.AsyncClient,
    session: AsyncSession,
    settings: Settings,
    connected: Connected,
    other_connected: Connected,
) -> None:
    """Both schools' MIS call a pupil `stu-00002`: each school sees only its own pupil's story."""
    other_token = await mint(session, settings, other_connected)
    await read(client, other_token, f"/api/v1/students/{PUPIL}")

    ours = await disclosures_of(client, connected)
    assert ours["disclosures"] == []
    assert [now["app_id"] for now in ours["current_access"]] == [str(connected.party.app.id)]
    theirs = await disclosures_of(client, other_connected)
    assert len(theirs["disclosures"]) == 1
    assert [now["app_id"] for now in theirs["current_access"]] == [str(other_connected.party.app.id)]


async def test_a_pupil_the_school_never_had_is_404(client: httpx.AsyncClient, connected: Connected) -> None:
    response = await client.get(url("stu-99999"), headers=connected.headers)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        (url("a" * 65), {}, 422),  # longer than any MIS id
        (url("stu%2000001"), {}, 422),  # a space
        (url("stu%00"), {}, 422),  # NUL
        (url("%F0%9F%98%80"), {}, 422),  # not an MIS id character
        (url("..%2F..%2Fgrants"), {}, 404),  # another path altogether: no such route
        (url(), {"limit": 0}, 422),
        (url(), {"limit": 501}, 422),
        (url(), {"limit": "ten"}, 422),
        (url(), {"limit": 2**64}, 422),
        (url(), {"cursor": "not-a-cursor"}, 400),
        (url(), {"cursor": "x" * 5000}, 422),
        (url(), {"student": PUPIL}, 400),  # unknown parameter
        (f"{url()}?limit=1&limit=2", {}, 400),  # repeated parameter
    ],
)
async def test_wrong_oversized_and_hostile_input_is_refused_with_a_problem(
    client: httpx.AsyncClient, connected: Connected, path: str, params: dict[str, Any], status: int
) -> None:
    response = await client.get(path, headers=connected.headers, params=params or None)
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_cursor_made_for_another_pupil_or_school_is_refused(
    client: httpx.AsyncClient,
    session: AsyncSession,
    settings: Settings,
    connected: Connected,
    other_connected: Connected,
) -> None:
    token = await mint(session, settings, connected)
    for _ in range(2):
        await read(client, token, "/api/v1/students?limit=5")
    cursor = (await disclosures_of(client, connected, limit=1))["next_cursor"]
    assert cursor is not None
    for who, student_id in ((connected, "stu-00003"), (other_connected, PUPIL)):
        response = await client.get(url(student_id), headers=who.headers, params={"cursor": cursor})
        assert response.status_code == 400, response.text[:300]
        assert response.json()["errors"][0]["parameter"] == "cursor"


@pytest.mark.parametrize("authorization", [None, "Bearer gw_sk_nope_nope", "Basic abc"])
async def test_without_the_schools_credential_it_is_401(
    client: httpx.AsyncClient, connected: Connected, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"authorization": authorization}
    response = await client.get(url(), headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_deleted_pupil_keeps_their_history(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, connected: Connected
) -> None:
    token = await mint(session, settings, connected)
    request_id, _page = await read(client, token, f"/api/v1/students/{PUPIL}")
    row = await session.get(MisRecordRow, (connected.party.school.id, "students", PUPIL))
    assert row is not None
    row.deleted_at = utcnow()
    await session.commit()
    body = await disclosures_of(client, connected)
    assert body["current_access"] == []
    assert [d["request_id"] for d in body["disclosures"]] == [request_id]
