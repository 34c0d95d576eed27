"""`GET /api/v1/app/schools`: the schools with a live grant for the calling app, and nothing else."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx

from gateway.consent.models import Grant
from gateway.db.base import utcnow
from gateway.errors import PROBLEM_JSON
from gateway.http.cursors import MAX_CURSOR_LENGTH
from tests.support.http import bearer
from tests.support.world import World

SCHOOLS = "/api/v1/app/schools"


async def test_lists_live_grants_of_this_app_only(client: httpx.AsyncClient, world: World) -> None:
    app, other_app = await world.app(), await world.app("Other App")
    north, south, revoked_school = (
        await world.school("North"),
        await world.school("South"),
        await world.school(),
    )
    north_grant = await world.grant(north, app, ("school", "groups", "students.basic"))
    south_grant = await world.grant(
        south, app, ("school", "students.basic"), audience={"groups": ["g1", "g2"], "exclude": ["s1"]}
    )
    gone = await world.grant(revoked_school, app)
    gone.revoked_at = utcnow()
    await world.grant(north, other_app)  # another app's grant at the same school
    await world.session.commit()
    token = await world.app_token(app)

    response = await client.get(SCHOOLS, headers=bearer(token.token))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next_cursor"] is None
    assert "link" not in response.headers
    by_grant = {item["grant_id"]: item for item in body["schools"]}
    assert set(by_grant) == {str(north_grant.id), str(south_grant.id)}
    north_item = by_grant[str(north_grant.id)]
    assert north_item["school_id"] == str(north.id)
    assert north_item["urn"] == north.urn
    assert north_item["name"] == "North"
    assert north_item["scope"] == "school groups students.basic"
    assert north_item["scopes"] == ["school", "groups", "students.basic"]
    assert north_item["audience"] == {"whole_school": True, "groups": None, "excluded_students": 0}
    assert north_item["granted_at"]
    assert north_item["updated_at"]
    assert by_grant[str(south_grant.id)]["audience"] == {
        "whole_school": False,
        "groups": ["g1", "g2"],
        "excluded_students": 1,
    }
    assert "s1" not in response.text  # never names an excluded pupil


async def test_no_grants_is_an_empty_list(client: httpx.AsyncClient, world: World) -> None:
    token = await world.app_token(await world.app())
    response = await client.get(SCHOOLS, headers=bearer(token.token))
    assert response.status_code == 200
    assert response.json() == {"schools": [], "next_cursor": None}


async def test_pages_cover_every_school_once(client: httpx.AsyncClient, world: World) -> None:
    app = await world.app()
    grants = {str((await world.grant(await world.school(), app)).id) for _ in range(5)}
    token = await world.app_token(app)

    seen: list[str] = []
    url: str | None = f"{SCHOOLS}?limit=2"
    pages = 0
    while url is not None:
        response = await client.get(url, headers=bearer(token.token))
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["schools"]) <= 2
        seen += [item["grant_id"] for item in body["schools"]]
        pages += 1
        if body["next_cursor"] is None:
            assert "link" not in response.headers
            url = None
        else:
            link = response.headers["link"]
            assert link.endswith('>; rel="next"')
            assert f"cursor={body['next_cursor']}" in link
            url = f"{SCHOOLS}?limit=2&cursor={body['next_cursor']}"
    assert pages == 3
    assert sorted(seen) == sorted(grants)
    assert len(seen) == len(set(seen))


async def test_unknown_or_repeated_query_parameters_are_400(client: httpx.AsyncClient, world: World) -> None:
    token = await world.app_token(await world.app())
    for query in ("?school_id=1", "?limit=1&limit=2", "?limit=5&debug=true", "?%00%0a=1"):
        response = await client.get(SCHOOLS + query, headers=bearer(token.token))
        assert response.status_code == 400, query
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.json()["errors"], query
        assert "\x00" not in response.text


def refused_cursor(response: httpx.Response) -> None:
    """The answer to a cursor this endpoint did not hand out to this app: 400, naming `cursor`."""
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert [error["parameter"] for error in response.json()["errors"]] == ["cursor"]
    assert "link" not in response.headers


async def walk(client: httpx.AsyncClient, token: str, limit: int) -> tuple[list[str], list[str]]:
    """Every page of the app's list: the grant ids in order, and each page's `next_cursor`."""
    seen: list[str] = []
    cursors: list[str] = []
    params: dict[str, Any] = {"limit": limit}
    while True:
        response = await client.get(SCHOOLS, params=params, headers=bearer(token))
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [item["grant_id"] for item in body["schools"]]
        if body["next_cursor"] is None:
            return seen, cursors
        cursors.append(body["next_cursor"])
        params = {"limit": limit, "cursor": body["next_cursor"]}


async def test_bad_cursor_and_limit(client: httpx.AsyncClient, world: World) -> None:
    token = await world.app_token(await world.app())
    for cursor in ("nope", "A" * 22, "A" * 23, "!" * 22, str(uuid.uuid4()), "forged.cursor"):
        refused_cursor(await client.get(SCHOOLS, params={"cursor": cursor}, headers=bearer(token.token)))
    over_long = "A" * (MAX_CURSOR_LENGTH + 1)
    response = await client.get(SCHOOLS, params={"cursor": over_long}, headers=bearer(token.token))
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    for limit in ("0", "501", "many"):
        response = await client.get(SCHOOLS, params={"limit": limit}, headers=bearer(token.token))
        assert response.status_code == 422, limit


async def test_forged_or_another_apps_cursors_are_refused(client: httpx.AsyncClient, world: World) -> None:
    app, other_app = await world.app(), await world.app("Other App")
    ours = [await world.grant(await world.school(), app) for _ in range(3)]
    theirs = [await world.grant(await world.school(), other_app) for _ in range(3)]
    token, other_token = await world.app_token(app), await world.app_token(other_app)
    seen, cursors = await walk(client, token.token, limit=1)
    their_seen, their_cursors = await walk(client, other_token.token, limit=1)
    assert sorted(seen) == sorted(str(grant.id) for grant in ours)
    assert sorted(their_seen) == sorted(str(grant.id) for grant in theirs)

    first = min(ours, key=lambda grant: grant.id)
    changed = cursors[0][:5] + ("A" if cursors[0][5] != "A" else "B") + cursors[0][6:]
    refusals = [
        *their_cursors,  # valid, but another app's
        base64.urlsafe_b64encode(first.id.bytes).rstrip(b"=").decode(),  # the old unsealed cursor
        base64.urlsafe_b64encode(uuid.UUID(int=0).bytes).rstrip(b"=").decode(),  # "from the start"
        changed,  # one character changed
    ]
    for cursor in refusals:
        refused_cursor(
            await client.get(SCHOOLS, params={"limit": 1, "cursor": cursor}, headers=bearer(token.token))
        )
    # Nothing else changed: every grant is still live, and both apps still walk their own lists once each.
    for grant in ours + theirs:
        assert await world.is_live(grant)
    assert await walk(client, token.token, limit=1) == (seen, cursors)
    assert len(seen) == len(set(seen)) == 3
    assert (await walk(client, other_token.token, limit=2))[0] == their_seen


async def test_a_cursor_made_before_a_grant_ends_still_walks_the_rest(
    client: httpx.AsyncClient, world: World
) -> None:
    app = await world.app()
    grants = sorted([await world.grant(await world.school(), app) for _ in range(4)], key=lambda g: g.id)
    token = await world.app_token(app)
    first = await client.get(SCHOOLS, params={"limit": 2}, headers=bearer(token.token))
    cursor = first.json()["next_cursor"]
    ended = await world.session.get(Grant, grants[2].id)
    assert ended is not None
    ended.revoked_at = utcnow()
    await world.session.commit()
    rest = await client.get(SCHOOLS, params={"limit": 2, "cursor": cursor}, headers=bearer(token.token))
    assert rest.status_code == 200, rest.text
    assert [item["grant_id"] for item in rest.json()["schools"]] == [str(grants[3].id)]
