"""Full sync: start, batches that name the sync, complete — records the sync did not send are deleted."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.mis.models import MisRecordRow
from tests.support.http import bearer
from tests.support.records import students


async def start(client: httpx.AsyncClient, token: str, resources: list[str]) -> httpx.Response:
    return await client.post("/connector/v1/syncs", json={"resources": resources}, headers=bearer(token))


async def test_full_sync_tombstones_what_it_did_not_see(
    client: httpx.AsyncClient, token: str, session: AsyncSession
) -> None:
    await client.post("/connector/v1/students/batch", json={"upsert": students(5)}, headers=bearer(token))
    started = await start(client, token, ["students", "staff"])
    assert started.status_code == 201
    sync_id = started.json()["id"]
    assert started.json()["state"] == "running"
    sent = await client.post(
        "/connector/v1/students/batch",
        json={"upsert": students(3, start=1), "sync_id": sync_id},
        headers=bearer(token),
    )
    assert sent.status_code == 200
    completed = await client.post(f"/connector/v1/syncs/{sync_id}/complete", headers=bearer(token))
    assert completed.status_code == 200
    assert completed.json()["state"] == "completed"
    assert completed.json()["tombstoned"] == 2
    deleted = await session.scalars(
        select(MisRecordRow.record_id).where(MisRecordRow.deleted_at.is_not(None))
    )
    assert sorted(deleted) == ["stu-00000", "stu-00004"]
    report = (await client.get("/connector/v1/status", headers=bearer(token))).json()
    assert report["last_sync"]["id"] == sync_id
    assert report["resources"]["students"] == {
        "records": 3,
        "deleted": 2,
        "last_updated_at": report["resources"]["students"]["last_updated_at"],
    }
    again = await client.post(f"/connector/v1/syncs/{sync_id}/complete", headers=bearer(token))
    assert again.status_code == 409
    late = await client.post(
        "/connector/v1/students/batch",
        json={"upsert": students(1), "sync_id": sync_id},
        headers=bearer(token),
    )
    assert late.status_code == 409


async def test_batches_outside_the_sync_resources_are_refused(client: httpx.AsyncClient, token: str) -> None:
    sync_id = (await start(client, token, ["staff"])).json()["id"]
    response = await client.post(
        "/connector/v1/students/batch",
        json={"upsert": students(1), "sync_id": sync_id},
        headers=bearer(token),
    )
    assert response.status_code == 422


async def test_another_schools_sync_is_not_found(
    client: httpx.AsyncClient, token: str, other_token: str
) -> None:
    sync_id = (await start(client, token, ["students"])).json()["id"]
    for response in (
        await client.post(f"/connector/v1/syncs/{sync_id}/complete", headers=bearer(other_token)),
        await client.post(
            "/connector/v1/students/batch",
            json={"upsert": students(1), "sync_id": sync_id},
            headers=bearer(other_token),
        ),
        await client.post(f"/connector/v1/syncs/{uuid.uuid4()}/complete", headers=bearer(token)),
    ):
        assert response.status_code == 404


async def test_bad_sync_requests(client: httpx.AsyncClient, token: str) -> None:
    assert (await start(client, token, [])).status_code == 422
    assert (await start(client, token, ["students", "students"])).status_code == 422
    assert (await start(client, token, ["pupils"])).status_code == 404
    assert (await start(client, token, ["x"] * 21)).status_code == 422
    response = await client.post("/connector/v1/syncs/not-a-uuid/complete", headers=bearer(token))
    assert response.status_code == 422
