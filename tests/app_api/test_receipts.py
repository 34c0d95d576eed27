"""`GET /api/v1/app/receipts` and `GET /manage/v1/grants/{id}/receipts`: each party reads only its own."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.consent import grants
from gateway.consent.receipt_tokens import receipt_hash, verify_receipt
from gateway.db.base import utcnow
from tests.support.grants import Connected
from tests.support.http import bearer
from tests.support.world import World

APP_RECEIPTS = "/api/v1/app/receipts"


async def _keys(client: httpx.AsyncClient) -> dict[str, dict[str, str]]:
    return {key["kid"]: key for key in (await client.get("/.well-known/jwks.json")).json()["keys"]}


async def test_the_app_reads_the_receipts_of_its_own_grants_only(
    client: httpx.AsyncClient, world: World
) -> None:
    app, other_app = await world.app(), await world.app("Other Planner")
    first, second = await world.school(), await world.school()
    grant_a, grant_b = await world.grant(first, app), await world.grant(second, app)
    foreign = await world.grant(first, other_app)
    for grant in (grant_a, grant_b, foreign):
        await grants.revoke_grant(world.session, grant, actor="operator", now=utcnow())
    await world.session.commit()
    token = (await world.app_token(app)).token

    response = await client.get(APP_RECEIPTS, params={"limit": 1}, headers=bearer(token))
    assert response.status_code == 200, response.text
    page = response.json()
    assert len(page["receipts"]) == 1
    assert page["next_cursor"]
    assert 'rel="next"' in response.headers["link"]
    rest = await client.get(APP_RECEIPTS, params={"cursor": page["next_cursor"]}, headers=bearer(token))
    assert rest.status_code == 200, rest.text
    receipts = page["receipts"] + rest.json()["receipts"]
    assert rest.json()["next_cursor"] is None
    assert sorted(r["grant_id"] for r in receipts) == sorted([str(grant_a.id), str(grant_b.id)])
    keys = await _keys(client)
    for receipt in receipts:
        _kid, claims = verify_receipt(receipt["jws"], keys)
        assert claims == receipt["claims"]
        assert receipt["hash"] == receipt_hash(receipt["jws"])
        assert claims["app"]["client_id"] == app.client_id

    other_token = (await world.app_token(other_app)).token
    stolen = await client.get(
        APP_RECEIPTS, params={"cursor": page["next_cursor"]}, headers=bearer(other_token)
    )
    assert stolen.status_code == 400  # a cursor is bound to the app it was made for
    mine = await client.get(APP_RECEIPTS, headers=bearer(other_token))
    assert [r["grant_id"] for r in mine.json()["receipts"]] == [str(foreign.id)]


async def test_the_app_endpoint_refuses_hostile_input(client: httpx.AsyncClient, world: World) -> None:
    app = await world.app()
    school = await world.school()
    grant = await world.grant(school, app)
    school_token = (await world.school_token(app, grant)).token
    token = (await world.app_token(app)).token
    assert (await client.get(APP_RECEIPTS)).status_code == 401
    assert (await client.get(APP_RECEIPTS, headers=bearer("not-a-token"))).status_code == 401
    assert (await client.get(APP_RECEIPTS, headers=bearer(school_token))).status_code == 403
    for params, status in (
        ({"limit": "0"}, 422),
        ({"limit": "501"}, 422),
        ({"limit": "x"}, 422),
        ({"cursor": "A" * 5000}, 422),
        ({"cursor": "forged.cursor"}, 400),
        ({"school": "1"}, 400),
        ({"limit": ["1", "2"]}, 400),
    ):
        response = await client.get(APP_RECEIPTS, params=params, headers=bearer(token))
        assert response.status_code == status, (params, response.text)


async def test_the_school_reads_its_grants_receipts_and_never_another_schools(
    client: httpx.AsyncClient, session: AsyncSession, connected: Connected, other_connected: Connected
) -> None:
    url = f"{connected.url}/receipts"
    narrowed = await client.post(
        f"{connected.url}/narrow",
        json={"remove_scopes": ["students.demographics"]},
        headers=connected.headers,
    )
    assert narrowed.status_code == 200, narrowed.text
    assert (await client.post(f"{connected.url}/revoke", headers=connected.headers)).status_code == 200

    response = await client.get(url, params={"limit": 1}, headers=connected.headers)
    assert response.status_code == 200, response.text
    first = response.json()
    nxt = await client.get(url, params={"cursor": first["next_cursor"]}, headers=connected.headers)
    receipts = first["receipts"] + nxt.json()["receipts"]
    assert [(r["seq"], r["decision"]) for r in receipts] == [(1, "narrowed"), (2, "revoked")]
    assert receipts[1]["claims"]["prev_hash"] == receipts[0]["hash"]
    keys = await _keys(client)
    assert all(verify_receipt(r["jws"], keys)[1] == r["claims"] for r in receipts)

    foreign = await client.get(f"{other_connected.url}/receipts", headers=connected.headers)
    assert foreign.status_code == 404
    other_url = f"{other_connected.url}/receipts"
    reused = await client.get(
        other_url, params={"cursor": first["next_cursor"]}, headers=other_connected.headers
    )
    assert reused.status_code == 422  # the cursor is bound to the grant and school it was made for
    for path, params, status in (
        ("/manage/v1/grants/not-a-uuid/receipts", {}, 422),
        (url, {"limit": "0"}, 422),
        (url, {"cursor": "forged"}, 422),
        (url, {"after": "1"}, 400),
    ):
        answer = await client.get(path, params=params, headers=connected.headers)
        assert answer.status_code == status, (path, params, answer.text)
    assert (await client.get(url)).status_code == 401
    assert (await client.get(url, headers=bearer("gw_sk_wrong"))).status_code == 401
