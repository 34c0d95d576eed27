"""Tenant isolation: a token of school A asking for school B's records on every endpoint gets nothing."""

from __future__ import annotations

import httpx

from tests.support.data_api import PATHS, connect, expected_view, fetch_all, load_school, stored, write
from tests.support.world import World


async def test_school_a_token_never_reaches_school_b(client: httpx.AsyncClient, world: World) -> None:
    school_a = await load_school(world.session, world.keyring, 7)
    school_b = await load_school(world.session, world.keyring, 8)
    a = await connect(world, school_a, 7)
    data_a, data_b = stored(7), stored(8)
    # The generator reuses ids across schools; give school B one record of its own in every resource.
    for resource in PATHS:
        await write(
            world.session, world.keyring, school_b, resource, [dict(data_b[resource][0], id="zz-b-only")]
        )
    view = expected_view(data_a, a.grant.scope_set, None)
    for resource, path in PATHS.items():
        listed = {record.pop("id"): record for record in await fetch_all(client, path, a.headers)}
        for record in listed.values():
            del record["updated_at"]
        # School A's own records, with its own contents, even where school B uses the same ids.
        assert listed == {
            key: {k: v for k, v in value.items() if k != "id"} for key, value in view[resource].items()
        }
        response = await client.get(f"{path}/zz-b-only", headers=a.headers)
        assert response.status_code == 404, resource
    school = await client.get("/api/v1/school", headers=a.headers)
    assert school.json()["urn"] == school_a.urn != school_b.urn
    shared = data_a["students"][0]["id"]
    response = await client.get(f"/api/v1/students/{shared}", headers=a.headers)
    assert response.json()["last_name"] == data_a["students"][0]["last_name"]
    # A token claiming school B for school A's grant is refused outright.
    forged = await world.school_token(a.app, a.grant, school_id=school_b.id)
    response = await client.get("/api/v1/students", headers={"authorization": f"Bearer {forged.token}"})
    assert response.status_code == 401
    # The changes feed of A holds only A's records.
    feed = await client.get("/api/v1/changes", params={"limit": 1500}, headers=a.headers)
    assert all(e["id"] != "zz-b-only" for e in feed.json()["changes"])
