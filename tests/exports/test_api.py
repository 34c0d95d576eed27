"""`/manage/v1/exports` (issue 15, item 5): start, follow, download once; another school's ids are 404."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.base import utcnow
from gateway.exports.download import hand_out
from gateway.exports.models import Export, ExportChunk
from gateway.exports.retention import purge_exports
from gateway.exports.service import LIFETIME, ExportGone
from gateway.keys.keyring import Keyring
from tests.exports.conftest import Builder
from tests.support.audit import events_of
from tests.support.exports import check_zip, sha256
from tests.support.grants import Connected, sign_in_admin
from tests.support.http import bearer

URL = "/manage/v1/exports"
PROBLEM = "application/problem+json"


async def started(client: httpx.AsyncClient, connected: Connected) -> str:
    response = await client.post(URL, headers=connected.headers)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def test_an_export_round_trips_and_downloads_once(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring, loaded: Connected, build: Builder
) -> None:
    school_id = loaded.grant.school_id
    response = await client.post(URL, headers=loaded.headers)
    assert response.status_code == 202, response.text
    export = response.json()
    assert export["state"] == "queued"
    assert response.headers["location"] == f"{URL}/{export['id']}"

    assert str(await build()) == export["id"]
    assert await build() is None  # nothing else waits

    shown = (await client.get(response.headers["location"], headers=loaded.headers)).json()
    assert shown["state"] == "ready"
    assert shown["progress"]["written"] == shown["progress"]["total"] > 0
    assert shown["download"] == f"{URL}/{export['id']}/download"
    listed = (await client.get(URL, headers=loaded.headers)).json()["exports"]
    assert [item["id"] for item in listed] == [export["id"]]

    download = await client.get(shown["download"], headers=loaded.headers)
    assert download.status_code == 200, download.text
    assert download.headers["content-type"] == "application/zip"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert int(download.headers["content-length"]) == len(download.content) == shown["size"]
    assert sha256(download.content) == shown["sha256"]
    manifest = await check_zip(download.content, session, keyring, school_id)
    assert manifest["export_id"] == export["id"]
    assert manifest["counts"]["records"]["students"] == 12
    assert manifest["counts"]["grants"] == manifest["counts"]["receipts"] == 1
    assert manifest["counts"]["data_accesses"] == 1

    again = await client.get(shown["download"], headers=loaded.headers)
    assert again.status_code == 410
    assert again.headers["content-type"] == PROBLEM
    after = (await client.get(response.headers["location"], headers=loaded.headers)).json()
    assert after["state"] == "downloaded"
    assert after["download"] is None
    assert await session.scalar(select(func.count()).select_from(ExportChunk)) == 0

    [(actor, exported)] = await events_of(session, school_id, "data.exported")
    assert actor.startswith("api_key:")
    assert exported == {
        "export_id": export["id"],
        "size": shown["size"],
        "sha256": shown["sha256"],
        **manifest["counts"],
    }
    assert await events_of(session, school_id, "export.downloaded") == [
        (actor, {"export_id": export["id"], "size": shown["size"], "sha256": shown["sha256"]})
    ]


async def test_one_export_at_a_time_per_school(
    client: httpx.AsyncClient, loaded: Connected, other_connected: Connected, build: Builder
) -> None:
    first = await started(client, loaded)
    second = await client.post(URL, headers=loaded.headers)
    assert second.status_code == 409
    assert second.headers["content-type"] == PROBLEM
    assert first in second.json()["detail"]
    await started(client, other_connected)  # another school is not held up
    await build()
    await build()
    await started(client, loaded)  # once it is built, the next may start


async def test_another_schools_export_is_not_found(
    client: httpx.AsyncClient, loaded: Connected, other_connected: Connected, build: Builder
) -> None:
    export_id = await started(client, loaded)
    await build()
    for path in (f"{URL}/{export_id}", f"{URL}/{export_id}/download", f"{URL}/{uuid.uuid4()}"):
        response = await client.get(path, headers=other_connected.headers)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == PROBLEM
    assert (await client.get(URL, headers=other_connected.headers)).json() == {"exports": []}
    assert (await client.get(f"{URL}/{export_id}/download", headers=loaded.headers)).status_code == 200


async def test_a_download_before_it_is_ready_is_a_conflict(
    client: httpx.AsyncClient, loaded: Connected
) -> None:
    export_id = await started(client, loaded)
    response = await client.get(f"{URL}/{export_id}/download", headers=loaded.headers)
    assert response.status_code == 409
    assert "queued" in response.json()["detail"]


async def test_a_ready_export_expires_after_24_hours(
    client: httpx.AsyncClient, session: AsyncSession, loaded: Connected, build: Builder
) -> None:
    export_id = uuid.UUID(await started(client, loaded))
    ready_at = utcnow() - timedelta(hours=1)
    await build(now=ready_at)
    school_id = loaded.grant.school_id
    late = ready_at + LIFETIME + timedelta(seconds=1)
    with pytest.raises(ExportGone):
        await hand_out(session, school_id, export_id, actor="system", now=late)
    await session.rollback()

    assert await purge_exports(session, ready_at + LIFETIME - timedelta(seconds=1)) == {"export_chunks": 0}
    assert (await purge_exports(session, late))["export_chunks"] >= 1
    await session.commit()
    row = await session.get(Export, export_id, populate_existing=True)
    assert row is not None
    assert row.state == "expired"
    response = await client.get(f"{URL}/{export_id}/download", headers=loaded.headers)
    assert response.status_code == 410
    assert "expired" in response.json()["detail"]
    assert await events_of(session, school_id, "export.downloaded") == []


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", f"{URL}/not-a-uuid", 422),
        ("GET", f"{URL}/{'9' * 400}", 422),
        ("GET", f"{URL}/a%00b", 422),
        ("GET", f"{URL}/%ED%A0%80", 422),
        ("GET", f"{URL}/not-a-uuid/download", 422),
        ("GET", f"{URL}/{uuid.uuid4()}", 404),
        ("GET", f"{URL}/{uuid.uuid4()}/download", 404),
        ("GET", f"{URL}?limit=0", 422),
        ("GET", f"{URL}?limit=101", 422),
        ("GET", f"{URL}?limit={2**64}", 422),
        ("GET", f"{URL}?limit=a%00b", 422),
        ("GET", f"{URL}?limit=5&limit=6", 400),
        ("GET", f"{URL}?x=a%00b", 400),
        ("POST", f"{URL}?state=ready", 400),
        ("GET", f"{URL}/{uuid.uuid4()}?x=1", 400),
    ],
)
async def test_bad_input_is_a_problem(
    client: httpx.AsyncClient,
    session: AsyncSession,
    connected: Connected,
    method: str,
    path: str,
    status: int,
) -> None:
    response = await client.request(method, path, headers=connected.headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == status
    assert "a\x00b" not in response.text
    assert await session.scalar(select(func.count()).select_from(Export)) == 0


@pytest.mark.parametrize("path", [URL, f"{URL}/{uuid.uuid4()}", f"{URL}/{uuid.uuid4()}/download"])
async def test_no_credential_no_export(client: httpx.AsyncClient, session: AsyncSession, path: str) -> None:
    for headers in ({}, bearer("gw_sk_" + "A" * 40)):
        response = await client.get(path, headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM
    response = await client.post(URL)
    assert response.status_code == 401
    assert await session.scalar(select(func.count()).select_from(Export)) == 0


async def test_an_admin_session_needs_its_csrf_token_to_start_one(
    browser: httpx.AsyncClient, session: AsyncSession, connected: Connected
) -> None:
    csrf = await sign_in_admin(browser, connected.party)
    refused = await browser.post(URL)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM
    accepted = await browser.post(URL, headers={"x-csrf-token": csrf})
    assert accepted.status_code == 202, accepted.text
    row = await session.get(Export, uuid.UUID(accepted.json()["id"]))
    assert row is not None
    assert row.requested_by == f"admin:{connected.party.account.admin.id}"
