"""`GET /manage/v1/access-log`: what the data API sent, per app, grant, resource and time; one school only."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update

from gateway.access_log import service
from gateway.access_log.models import DataAccess
from gateway.db.base import utcnow
from gateway.manage import api_keys
from gateway.manage.principal import SchoolPrincipal
from gateway.mis.ingest import apply_batch
from gateway.mis.validation import validate_batch
from tests.support import records
from tests.support.accounts import Account, make_account
from tests.support.world import World

URL = "/manage/v1/access-log"


async def school_key(world: World, owner: Account) -> dict[str, str]:
    _row, token = await api_keys.create_key(
        world.session,
        world.keyring,
        SchoolPrincipal(owner.school.id, admin_id=owner.admin.id),
        "Audit script",
    )
    await world.session.commit()
    return {"authorization": f"Bearer {token}"}


async def log_rows(
    world: World, owner: Account, client_id: str, grant_id: uuid.UUID, resources: list[str]
) -> None:
    await service.record(
        world.session,
        school_id=owner.school.id,
        app_id=uuid.uuid4(),
        client_id=client_id,
        grant_id=grant_id,
        deliveries=[service.Delivery(name, frozenset({"id", "first_name"}), 3) for name in resources],
        request_id=None,
    )
    await world.session.commit()


async def test_the_data_api_writes_what_the_school_reads(client: httpx.AsyncClient, world: World) -> None:
    owner = await make_account(world.session, "head@log.example.org")
    pupils = records.students(4)
    await apply_batch(
        world.session,
        world.keyring,
        owner.school,
        validate_batch("students", pupils, [], today=utcnow().date()),
    )
    app = await world.app()
    grant = await world.grant(owner.school, app, scopes=("school", "students.basic", "students.demographics"))
    token = await world.school_token(app, grant, scopes=("school", "students.basic", "students.demographics"))
    sent = await client.get(
        "/api/v1/students",
        headers={"authorization": f"Bearer {token.token}", "x-request-id": "req-0123456789"},
    )
    assert sent.status_code == 200
    headers = await school_key(world, owner)
    response = await client.get(URL, headers=headers)
    assert response.status_code == 200
    (entry,) = response.json()["entries"]
    fields = sorted({name for record in sent.json()["data"] for name in record} - {"updated_at"})
    assert entry["fields"] == fields
    assert "dob" in fields
    assert entry["record_count"] == 4
    assert entry["client_id"] == app.client_id
    assert entry["grant_id"] == str(grant.id)
    assert entry["resource"] == "students"
    assert entry["request_id"] == "req-0123456789"
    # Contents never: no value of any pupil appears in the log.
    assert pupils[0]["last_name"] not in response.text


async def test_filters_pages_and_isolation(client: httpx.AsyncClient, world: World) -> None:
    owner = await make_account(world.session, "head@filters.example.org")
    other = await make_account(world.session, "head@elsewhere.example.org")
    grant_a, grant_b = uuid.uuid4(), uuid.uuid4()
    await log_rows(world, owner, "client-a", grant_a, ["students", "groups", "students"])
    await log_rows(world, owner, "client-b", grant_b, ["contacts"])
    await log_rows(world, other, "client-a", uuid.uuid4(), ["students"])
    old = utcnow() - timedelta(days=10)
    await world.session.execute(
        update(DataAccess).where(DataAccess.client_id == "client-b").values(occurred_at=old)
    )
    await world.session.commit()
    headers = await school_key(world, owner)

    async def entries(**params: Any) -> list[dict[str, Any]]:
        response = await client.get(URL, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body: list[dict[str, Any]] = response.json()["entries"]
        return body

    assert len(await entries()) == 4  # the other school's row is never listed
    assert {e["client_id"] for e in await entries(client_id="client-a")} == {"client-a"}
    assert len(await entries(grant_id=str(grant_b))) == 1
    assert len(await entries(resource="students")) == 2
    assert len(await entries(since=(old + timedelta(days=1)).isoformat())) == 3
    assert len(await entries(until=(old + timedelta(days=1)).isoformat())) == 1
    # Pages: newest first, each entry once.
    seen: list[int] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 1}
        if cursor:
            params["cursor"] = cursor
        response = await client.get(URL, params=params, headers=headers)
        body = response.json()
        seen.extend(entry["id"] for entry in body["entries"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert 'rel="next"' in response.headers["link"]
    assert seen == sorted(seen, reverse=True)
    assert len(seen) == 4
    # The other school sees only its own.
    other_headers = await school_key(world, other)
    response = await client.get(URL, headers=other_headers)
    assert len(response.json()["entries"]) == 1
    # A cursor from one school or query is refused for another.
    first = await client.get(URL, params={"limit": 1}, headers=headers)
    foreign = first.json()["next_cursor"]
    assert (await client.get(URL, params={"cursor": foreign}, headers=other_headers)).status_code == 400
    assert (
        await client.get(URL, params={"cursor": foreign, "resource": "students"}, headers=headers)
    ).status_code == 400


async def test_forged_or_another_schools_cursor_is_refused(client: httpx.AsyncClient, world: World) -> None:
    owner = await make_account(world.session, "head@cursors.example.org")
    other = await make_account(world.session, "head@cursors-elsewhere.example.org")
    await log_rows(world, owner, "client-a", uuid.uuid4(), ["students", "groups", "contacts", "staff"])
    await log_rows(world, other, "client-a", uuid.uuid4(), ["students", "groups"])
    headers, other_headers = await school_key(world, owner), await school_key(world, other)

    async def walk(sent: dict[str, str]) -> tuple[list[int], list[str]]:
        """Every entry id, one per page, and each page's `next_cursor`."""
        seen: list[int] = []
        cursors: list[str] = []
        params: dict[str, Any] = {"limit": 1}
        while True:
            response = await client.get(URL, params=params, headers=sent)
            assert response.status_code == 200, response.text
            body = response.json()
            seen += [entry["id"] for entry in body["entries"]]
            if body["next_cursor"] is None:
                return seen, cursors
            cursors.append(body["next_cursor"])
            params = {"limit": 1, "cursor": body["next_cursor"]}

    seen, cursors = await walk(headers)
    assert len(seen) == len(set(seen)) == 4
    _their_seen, their_cursors = await walk(other_headers)
    body, tag = cursors[0].split(".")
    refusals = [
        their_cursors[0],  # valid, but another school's
        body[:2] + ("A" if body[2] != "A" else "B") + body[3:] + "." + tag,  # one character changed
        body + "." + tag[::-1],
        base64.urlsafe_b64encode(str(seen[0]).encode()).rstrip(b"=").decode(),  # an unsealed position
    ]
    for cursor in refusals:
        response = await client.get(URL, params={"limit": 1, "cursor": cursor}, headers=headers)
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert [error["parameter"] for error in response.json()["errors"]] == ["cursor"]
        assert "link" not in response.headers
    # Nothing else changed: the same pages, the same cursors.
    assert await walk(headers) == (seen, cursors)


async def test_refusals_are_problems(client: httpx.AsyncClient, world: World) -> None:
    owner = await make_account(world.session, "head@refusals.example.org")
    headers = await school_key(world, owner)
    cases = [
        ({}, {}, 401),
        (headers, {"secret": "1"}, 400),
        (headers, {"cursor": "forged.cursor"}, 400),
        (headers, {"limit": "0"}, 422),
        (headers, {"grant_id": "not-a-uuid"}, 422),
        (headers, {"limit": "1", "limit ": "2"}, 400),
    ]
    for sent_headers, params, status in cases:
        response = await client.get(URL, params=params, headers=sent_headers)
        assert response.status_code == status, (params, response.text)
        assert response.headers["content-type"] == "application/problem+json"
