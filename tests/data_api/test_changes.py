"""The changes feed: replaying it gives exactly the current view, through deletions and audience changes."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.data_api import PATHS, Connected, connect, fetch_all, generated, load_school, stored, write

Copy = dict[tuple[str, str], dict[str, Any]]


async def replay(
    client: httpx.AsyncClient, connected: Connected, copy: Copy, cursor: str | None, limit: int = 250
) -> tuple[str, list[dict[str, Any]]]:
    """Apply the feed to `copy` until `has_more` is false; the last cursor and every event seen."""
    seen: list[dict[str, Any]] = []
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        response = await client.get("/api/v1/changes", params=params, headers=connected.headers)
        assert response.status_code == 200, response.text[:500]
        body = response.json()
        for event in body["changes"]:
            seen.append(event)
            if event.get("resync"):
                copy.clear()
            elif event["deleted"]:
                copy.pop((event["resource"], event["id"]), None)
            else:
                copy[(event["resource"], event["id"])] = event["record"]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return cursor, seen


async def current_view(client: httpx.AsyncClient, connected: Connected) -> Copy:
    view: Copy = {}
    for resource, path in PATHS.items():
        response = await client.get(path, params={"limit": 1}, headers=connected.headers)
        if response.status_code == 403:
            continue
        for record in await fetch_all(client, path, connected.headers):
            view[(resource, record["id"])] = record
    school = await client.get("/api/v1/school", headers=connected.headers)
    view[("school", school.json()["id"])] = school.json()
    return view


async def test_a_first_replay_is_the_whole_view(client: httpx.AsyncClient, connected: Connected) -> None:
    copy: Copy = {}
    cursor, _ = await replay(client, connected, copy, None)
    assert copy == await current_view(client, connected)
    # Nothing changed: nothing to send.
    _again, events = await replay(client, connected, copy, cursor)
    assert events == []


async def test_updates_and_deletions_replay(client: httpx.AsyncClient, connected: Connected) -> None:
    world, school = connected.world, connected.school
    copy: Copy = {}
    cursor, _ = await replay(client, connected, copy, None)
    data = stored(7)
    pupil = dict(data["students"][3], first_name="Renamed")
    await write(world.session, world.keyring, school, "students", [pupil])
    gone = [record["id"] for record in data["results"][:5]]
    await write(world.session, world.keyring, school, "results", [], deletes=gone)
    await write(world.session, world.keyring, school, "staff", [], deletes=[data["staff"][0]["id"]])
    cursor, events = await replay(client, connected, copy, cursor)
    assert {(e["resource"], e["id"]) for e in events if e["deleted"]} >= {("results", rid) for rid in gone}
    assert all(e["reason"] == "deleted" for e in events if e["deleted"])
    assert copy == await current_view(client, connected)
    assert copy[("students", pupil["id"])]["first_name"] == "Renamed"


async def test_a_pupil_moved_out_of_the_granted_group_leaves_with_their_records(
    client: httpx.AsyncClient, world: Any
) -> None:
    school = await load_school(world.session, world.keyring, 7)
    data = stored(7)
    form = next(g for g in data["groups"] if g["type"] == "registration" and len(g["student_ids"]) > 3)
    connected = await connect(world, school, 7, audience={"groups": [form["id"]], "exclude": []})
    copy: Copy = {}
    cursor, _ = await replay(client, connected, copy, None)
    mover = form["student_ids"][0]
    assert ("students", mover) in copy
    assert any(
        key[0] == "attendance_sessions" and value["student_id"] == mover for key, value in copy.items()
    )
    await write(
        world.session, world.keyring, school, "groups", [dict(form, student_ids=form["student_ids"][1:])]
    )
    cursor, events = await replay(client, connected, copy, cursor)
    assert {"resource": "students", "id": mover, "deleted": True, "reason": "left_audience"} in events
    assert ("students", mover) not in copy
    assert not any(value.get("student_id") == mover for value in copy.values())
    assert copy == await current_view(client, connected)
    # And back in: every record of the pupil comes back, though none of them changed.
    await write(world.session, world.keyring, school, "groups", [form])
    cursor, events = await replay(client, connected, copy, cursor)
    assert ("students", mover) in copy
    assert copy == await current_view(client, connected)


async def test_narrowing_the_audience_and_deleting_links_replay(
    client: httpx.AsyncClient, connected: Connected
) -> None:
    world, school = connected.world, connected.school
    data = stored(7)
    copy: Copy = {}
    cursor, _ = await replay(client, connected, copy, None)
    excluded = data["students"][0]["id"]
    await connected.regrant(connected.grant.scope_set, {"groups": None, "exclude": [excluded]})
    # Also: a contact loses its only link, and a pupil is deleted.
    links = data["student_contacts"]
    by_contact: dict[str, list[str]] = {}
    for link in links:
        by_contact.setdefault(link["contact_id"], []).append(link["id"])
    lonely = next(contact for contact, ids in by_contact.items() if len(ids) == 1)
    await write(world.session, world.keyring, school, "student_contacts", [], deletes=by_contact[lonely])
    deleted_pupil = data["students"][5]["id"]
    await write(world.session, world.keyring, school, "students", [], deletes=[deleted_pupil])
    cursor, events = await replay(client, connected, copy, cursor)
    assert {"resource": "students", "id": excluded, "deleted": True, "reason": "left_audience"} in events
    assert {"resource": "contacts", "id": lonely, "deleted": True, "reason": "left_audience"} in events
    assert {"resource": "students", "id": deleted_pupil, "deleted": True, "reason": "deleted"} in events
    assert not any(value.get("student_id") in {excluded, deleted_pupil} for value in copy.values())
    assert copy == await current_view(client, connected)


async def test_changed_scopes_resync(client: httpx.AsyncClient, connected: Connected) -> None:
    copy: Copy = {}
    cursor, _ = await replay(client, connected, copy, None)
    await connected.regrant(["school", "groups", "students.basic"], None)
    cursor, events = await replay(client, connected, copy, cursor)
    assert events[0] == {"resync": True, "reason": "grant_changed"}
    assert copy == await current_view(client, connected)
    assert not any(key[0] == "attendance_sessions" for key in copy)


async def test_another_grants_feed_cursor_is_refused(client: httpx.AsyncClient, connected: Connected) -> None:
    other = await connect(connected.world, connected.school, 7)  # another app, same school and records
    theirs, _ = await replay(client, other, {}, None)
    ours, _ = await replay(client, connected, {}, None)
    response = await client.get("/api/v1/changes", params={"cursor": theirs}, headers=connected.headers)
    assert response.status_code == 400, response.text
    assert [error["parameter"] for error in response.json()["errors"]] == ["cursor"]
    # Our own position is untouched: nothing has changed since, so nothing to send.
    _again, events = await replay(client, connected, {}, ours)
    assert events == []


async def test_a_bad_cursor_is_400(client: httpx.AsyncClient, connected: Connected) -> None:
    cursor, _ = await replay(client, connected, {}, None)
    body, _tag = cursor.split(".")
    for bad in ("nonsense", cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB"), body + "." + body):
        response = await client.get("/api/v1/changes", params={"cursor": bad}, headers=connected.headers)
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
    # A listing's cursor is not a feed cursor.
    page = await client.get("/api/v1/students", params={"limit": 2}, headers=connected.headers)
    response = await client.get(
        "/api/v1/changes", params={"cursor": page.json()["next_cursor"]}, headers=connected.headers
    )
    assert response.status_code == 400
    assert generated(7)
