"""`GET /api/v1/app/schools`: the schools with a live grant for the calling app, and nothing else."""

from __future__ import annotations

import uuid

import httpx

from gateway.db.base import utcnow
from gateway.errors import PROBLEM_JSON
from tests.app_api.conftest import World, bearer

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


async def test_bad_cursor_and_limit(client: httpx.AsyncClient, world: World) -> None:
    token = await world.app_token(await world.app())
    for cursor in ("nope", "A" * 23, "!" * 22, str(uuid.uuid4())):
        response = await client.get(SCHOOLS, params={"cursor": cursor}, headers=bearer(token.token))
        assert response.status_code in {400, 422}, cursor
        assert response.headers["content-type"] == PROBLEM_JSON
    for limit in ("0", "501", "many"):
        response = await client.get(SCHOOLS, params={"limit": limit}, headers=bearer(token.token))
        assert response.status_code == 422, limit


async def test_a_cursor_cannot_reach_another_apps_grants(client: httpx.AsyncClient, world: World) -> None:
    app, other_app = await world.app(), await world.app("Other App")
    school = await world.school()
    await world.grant(school, other_app)
    token = await world.app_token(app)
    # The smallest possible cursor: everything after it, but still only this app's grants.
    response = await client.get(SCHOOLS, params={"cursor": "A" * 22}, headers=bearer(token.token))
    assert response.status_code == 200
    assert response.json()["schools"] == []
