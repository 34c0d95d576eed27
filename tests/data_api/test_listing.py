"""Listings and single records through the app: audience, projection, pages, ETags, errors."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from gateway.access_log.models import DataAccess
from gateway.db.base import utcnow
from gateway.scopes import allowed_fields
from tests.support.data_api import (
    PATHS,
    Connected,
    connect,
    expected_view,
    fetch_all,
    load_school,
    stored,
    write,
)


async def test_every_listing_shows_exactly_the_view(client: httpx.AsyncClient, connected: Connected) -> None:
    grant_scopes = connected.grant.scope_set
    view = expected_view(stored(7), grant_scopes, None)
    for resource, path in PATHS.items():
        records = await fetch_all(client, path, connected.headers, limit=37)
        got = {record.pop("id"): record for record in records}
        for record in got.values():
            assert record.pop("updated_at")
        want = {key: {k: v for k, v in value.items() if k != "id"} for key, value in view[resource].items()}
        assert got == want, resource


async def test_a_restricted_audience_and_fewer_scopes(
    client: httpx.AsyncClient, connected: Connected
) -> None:
    data = stored(7)
    form = next(g for g in data["groups"] if g["type"] == "registration" and len(g["student_ids"]) > 3)
    audience = {"groups": [form["id"]], "exclude": [form["student_ids"][0]]}
    scopes = [
        "school",
        "groups",
        "students.demographics",
        "contacts.basic",
        "attendance.sessions",
        "exclusions",
    ]
    await connected.regrant(scopes, audience)
    view = expected_view(data, scopes, audience)
    assert set(view["students"]) == set(form["student_ids"][1:])
    for resource, path in PATHS.items():
        response = await client.get(path, headers=connected.headers)
        if resource not in view:
            assert response.status_code == 403, resource
            assert response.headers["content-type"] == "application/problem+json"
            assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
            continue
        got = {record["id"]: record for record in await fetch_all(client, path, connected.headers, limit=11)}
        for record in got.values():
            del record["updated_at"]
        assert got == view[resource], resource


async def test_token_scopes_narrow_the_grant(client: httpx.AsyncClient, connected: Connected) -> None:
    await connected.regrant(connected.grant.scope_set, None, token_scopes=["school", "students.basic"])
    pupils = await fetch_all(client, "/api/v1/students", connected.headers)
    sent = {name for pupil in pupils for name in pupil}
    assert sent - {"updated_at"} <= allowed_fields(["students.basic"])["students"]
    assert "dob" not in sent
    assert (await client.get("/api/v1/attendance/sessions", headers=connected.headers)).status_code == 403


async def test_single_records_and_the_school(client: httpx.AsyncClient, connected: Connected) -> None:
    data = stored(7)
    outsider = data["students"][0]["id"]
    await connected.regrant(connected.grant.scope_set, {"groups": None, "exclude": [outsider]})
    school = await client.get("/api/v1/school", headers=connected.headers)
    assert school.status_code == 200
    assert school.json()["urn"] == data["school"][0]["urn"]
    insider = data["students"][1]["id"]
    response = await client.get(f"/api/v1/students/{insider}", headers=connected.headers)
    assert response.status_code == 200
    assert response.json()["id"] == insider
    for path in (f"/api/v1/students/{outsider}", "/api/v1/students/no-such-pupil"):
        response = await client.get(path, headers=connected.headers)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
    session = next(s for s in data["attendance_sessions"] if s["student_id"] == outsider)
    assert (
        await client.get(f"/api/v1/attendance/sessions/{session['id']}", headers=connected.headers)
    ).status_code == 404
    group = data["groups"][0]
    response = await client.get(f"/api/v1/groups/{group['id']}", headers=connected.headers)
    assert outsider not in response.json().get("student_ids", [])


async def test_pages_link_and_limits(client: httpx.AsyncClient, connected: Connected) -> None:
    response = await client.get("/api/v1/students", params={"limit": 7}, headers=connected.headers)
    assert response.status_code == 200
    body = response.json()
    assert len(body["data"]) == 7
    assert response.headers["link"].endswith('>; rel="next"')
    assert "cursor=" + body["next_cursor"] in response.headers["link"]
    default = await client.get("/api/v1/results", headers=connected.headers)
    assert len(default.json()["data"]) == 100
    biggest = await client.get("/api/v1/results", params={"limit": 1500}, headers=connected.headers)
    assert len(biggest.json()["data"]) == 1500
    for bad in ("0", "1501", "-1", "many"):
        response = await client.get("/api/v1/students", params={"limit": bad}, headers=connected.headers)
        assert response.status_code == 422, bad
        assert response.headers["content-type"] == "application/problem+json"


async def test_unknown_or_repeated_parameters_and_bad_cursors_are_400(
    client: httpx.AsyncClient, connected: Connected
) -> None:
    for query in ("fields=upn", "limit=5&limit=6", "student_id=x", "access=1"):
        response = await client.get(f"/api/v1/students?{query}", headers=connected.headers)
        assert response.status_code == 400, query
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"]
    response = await client.get("/api/v1/school?x=1", headers=connected.headers)
    assert response.status_code == 400
    page = await client.get("/api/v1/students", params={"limit": 2}, headers=connected.headers)
    cursor = page.json()["next_cursor"]
    body, tag = cursor.split(".")
    forged = [
        "garbage",
        body + "." + tag[::-1],
        body[:-4] + "AAAA." + tag,
    ]
    for bad in forged:
        response = await client.get("/api/v1/students", params={"cursor": bad}, headers=connected.headers)
        assert response.status_code == 400
    # A cursor is bound to its endpoint and query.
    assert (
        await client.get("/api/v1/staff", params={"cursor": cursor}, headers=connected.headers)
    ).status_code == 400
    assert (
        await client.get(
            "/api/v1/students",
            params={"cursor": cursor, "updated_since": "2020-01-01T00:00:00Z"},
            headers=connected.headers,
        )
    ).status_code == 400


async def test_another_grants_or_schools_cursor_is_refused_and_nothing_is_logged(
    client: httpx.AsyncClient, connected: Connected
) -> None:
    world = connected.world
    same_school = await connect(world, connected.school, 7)  # another app's grant at the same school
    other_school = await connect(world, await load_school(world.session, world.keyring, 8), 8)

    async def next_cursor(headers: dict[str, str]) -> str:
        response = await client.get("/api/v1/students", params={"limit": 2}, headers=headers)
        assert response.status_code == 200, response.text
        cursor: str = response.json()["next_cursor"]
        return cursor

    ours = await next_cursor(connected.headers)
    theirs = [await next_cursor(other.headers) for other in (same_school, other_school)]
    changed = ours[:3] + ("A" if ours[3] != "A" else "B") + ours[4:]  # one character of the position

    async def logged() -> int:
        return int(await world.session.scalar(select(func.count()).select_from(DataAccess)) or 0)

    before = await logged()
    for cursor in (*theirs, changed):
        response = await client.get(
            "/api/v1/students", params={"limit": 2, "cursor": cursor}, headers=connected.headers
        )
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert [error["parameter"] for error in response.json()["errors"]] == ["cursor"]
        assert "data" not in response.json()
    assert await logged() == before  # a refused cursor sent nothing, so nothing is logged
    # The school's own cursor still walks the rest, and the whole walk has every pupil exactly once.
    rest = await client.get(
        "/api/v1/students", params={"limit": 2, "cursor": ours}, headers=connected.headers
    )
    assert rest.status_code == 200, rest.text
    walked = [record["id"] for record in await fetch_all(client, "/api/v1/students", connected.headers, 7)]
    assert len(walked) == len(set(walked))
    assert set(walked) == set(expected_view(stored(7), connected.grant.scope_set, None)["students"])


async def test_etag_304_until_something_changes(client: httpx.AsyncClient, connected: Connected) -> None:
    world = connected.world
    first = await client.get("/api/v1/students", headers=connected.headers)
    etag = first.headers["etag"]
    assert etag.startswith('W/"')
    assert first.headers["cache-control"] == "private, no-cache"
    again = await client.get("/api/v1/students", headers={**connected.headers, "if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    one = await client.get("/api/v1/school", headers=connected.headers)
    assert (
        await client.get(
            "/api/v1/school", headers={**connected.headers, "if-none-match": one.headers["etag"]}
        )
    ).status_code == 304
    # A different query is a different representation.
    other = await client.get(
        "/api/v1/students", params={"limit": 5}, headers={**connected.headers, "if-none-match": etag}
    )
    assert other.status_code == 200
    # Any MIS write changes it...
    pupil = dict(stored(7)["students"][0], first_name="Changed")
    await write(world.session, world.keyring, connected.school, "students", [pupil])
    changed = await client.get("/api/v1/students", headers={**connected.headers, "if-none-match": etag})
    assert changed.status_code == 200
    # ...and so does narrowing the grant.
    etag = changed.headers["etag"]
    await connected.regrant(connected.grant.scope_set - {"students.sen"}, None)
    narrowed = await client.get("/api/v1/students", headers={**connected.headers, "if-none-match": etag})
    assert narrowed.status_code == 200


async def test_updated_since(client: httpx.AsyncClient, connected: Connected) -> None:
    world = connected.world
    everyone = await fetch_all(client, "/api/v1/students", connected.headers)
    pupil = dict(stored(7)["students"][2], first_name="Later")
    await write(world.session, world.keyring, connected.school, "students", [pupil])
    after = next(
        p for p in await fetch_all(client, "/api/v1/students", connected.headers) if p["id"] == pupil["id"]
    )
    since = after["updated_at"]
    response = await client.get(
        "/api/v1/students", params={"updated_since": since}, headers=connected.headers
    )
    assert [p["id"] for p in response.json()["data"]] == [pupil["id"]]
    naive = await client.get(
        "/api/v1/students", params={"updated_since": "2001-01-01T00:00:00"}, headers=connected.headers
    )
    assert len(naive.json()["data"]) == len(everyone)
    bad = await client.get(
        "/api/v1/students", params={"updated_since": "yesterday"}, headers=connected.headers
    )
    assert bad.status_code == 422


async def test_revoking_the_grant_ends_access_on_the_next_request(
    client: httpx.AsyncClient, connected: Connected
) -> None:
    assert (await client.get("/api/v1/students", headers=connected.headers)).status_code == 200
    connected.grant.revoked_at = utcnow()
    await connected.world.session.commit()
    response = await client.get("/api/v1/students", headers=connected.headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/v1/students")).status_code == 401
    assert (await client.get("/api/v1/changes", headers=connected.headers)).status_code == 401


async def test_every_answer_with_records_is_logged_without_contents(
    client: httpx.AsyncClient, connected: Connected
) -> None:
    session = connected.world.session
    await connected.regrant(["school", "students.basic", "students.sen"], None)
    response = await client.get(
        "/api/v1/students",
        params={"limit": 5},
        headers={**connected.headers, "x-request-id": "req-listing-0001"},
    )
    sent = {name for record in response.json()["data"] for name in record} - {"updated_at"}
    etag = response.headers["etag"]
    await client.get(
        "/api/v1/students", params={"limit": 5}, headers={**connected.headers, "if-none-match": etag}
    )
    rows = (await session.scalars(select(DataAccess).where(DataAccess.grant_id == connected.grant.id))).all()
    assert len(rows) == 1  # the 304 sent nothing and is not logged
    (row,) = rows
    assert row.resource == "students"
    assert row.fields == " ".join(sorted(sent))
    assert row.record_count == 5
    assert row.request_id == "req-listing-0001"
    assert row.client_id == connected.app.client_id
    assert row.app_id == connected.app.id
    assert row.school_id == connected.school.id
    await client.get("/api/v1/changes", params={"limit": 50}, headers=connected.headers)
    feed_rows = (
        await session.scalars(
            select(DataAccess).where(DataAccess.grant_id == connected.grant.id, DataAccess.id > row.id)
        )
    ).all()
    assert feed_rows
    assert sum(r.record_count for r in feed_rows) == 50
