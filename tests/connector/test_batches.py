"""POST /connector/v1/{resource}/batch: atomic, validated, idempotent, scoped to the key's school."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.mis.models import GroupMembership, MisRecordRow
from gateway.schools.models import School
from gateway.settings import Settings
from tests.support.http import bearer
from tests.support.records import group, school_record, student, students


async def post(
    client: httpx.AsyncClient, token: str, resource: str, body: object, **headers: str
) -> httpx.Response:
    return await client.post(
        f"/connector/v1/{resource}/batch", json=body, headers={**bearer(token), **headers}
    )


async def status(client: httpx.AsyncClient, token: str) -> dict[str, object]:
    response = await client.get("/connector/v1/status", headers=bearer(token))
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


async def test_upsert_then_status(client: httpx.AsyncClient, token: str, school: School) -> None:
    response = await post(client, token, "students", {"upsert": students(25)})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "resource": "students",
        "upserted": 25,
        "deleted": 0,
        "not_found": 0,
        "last_change_seq": 25,
    }
    again = await post(client, token, "students", {"upsert": students(5)})
    assert again.json()["last_change_seq"] == 30
    report = await status(client, token)
    assert report["school_id"] == str(school.id)
    assert report["last_change_seq"] == 30
    assert report["resources"]["students"]["records"] == 25  # type: ignore[index]


async def test_one_bad_record_among_many_writes_nothing(
    client: httpx.AsyncClient, token: str, session: AsyncSession
) -> None:
    batch = students(100)
    batch[37] = student(37, upn="A207000016049")  # wrong check letter
    batch[80] = student(80, year_code="15")
    batch[81] = student(81, dob="2031-01-01")
    response = await post(client, token, "students", {"upsert": batch, "delete": ["ok-id", "bad id!"]})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    pointers = [error["pointer"] for error in response.json()["errors"]]
    assert "#/upsert/37/upn" in pointers
    assert "#/upsert/80/year_code" in pointers
    assert "#/upsert/81/dob" in pointers
    assert "#/delete/1" in pointers
    assert "nothing was written" in response.json()["detail"]
    assert "A207000016049" not in response.text  # rejected values are not echoed
    assert await session.scalar(select(MisRecordRow.record_id).limit(1)) is None


async def test_duplicate_ids_in_one_batch(client: httpx.AsyncClient, token: str) -> None:
    response = await post(
        client, token, "students", {"upsert": [student(1), student(1)], "delete": ["stu-00001"]}
    )
    assert response.status_code == 422
    pointers = {error["pointer"] for error in response.json()["errors"]}
    assert pointers == {"#/upsert/1/id", "#/delete/0"}


async def test_more_than_5000_records_is_413(client: httpx.AsyncClient, token: str) -> None:
    response = await post(client, token, "students", {"delete": [f"s-{i}" for i in range(5001)]})
    assert response.status_code == 413
    assert "5,000" in response.json()["detail"]


async def test_exactly_5000_is_accepted(client: httpx.AsyncClient, token: str) -> None:
    response = await post(client, token, "attendance_sessions", {"delete": [f"a-{i}" for i in range(5000)]})
    assert response.status_code == 200
    assert response.json()["not_found"] == 5000


@pytest.mark.parametrize("resource", ["pupils", "STUDENTS", "..%2Fstudents", "x" * 300])
async def test_unknown_resource_is_404(client: httpx.AsyncClient, token: str, resource: str) -> None:
    response = await post(client, token, resource, {"upsert": []})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "body",
    [[1, 2], {"upsert": "students"}, {"upsert": [1]}, {"upsert": [], "extra": 1, "sync_id": "not-a-uuid"}],
)
async def test_malformed_bodies(client: httpx.AsyncClient, token: str, body: object) -> None:
    response = await post(client, token, "students", body)
    assert response.status_code == 422


async def test_wrong_content_type_and_broken_json(client: httpx.AsyncClient, token: str) -> None:
    response = await client.post(
        "/connector/v1/students/batch",
        content=b"upsert=1",
        headers={**bearer(token), "content-type": "text/csv"},
    )
    assert response.status_code == 415
    response = await client.post(
        "/connector/v1/students/batch",
        content=b'{"upsert": [',
        headers={**bearer(token), "content-type": "application/json"},
    )
    assert response.status_code == 400


async def test_deletes_leave_tombstones_without_content(
    client: httpx.AsyncClient, token: str, session: AsyncSession
) -> None:
    await post(client, token, "students", {"upsert": students(3)})
    response = await post(client, token, "students", {"delete": ["stu-00001", "stu-99999"]})
    assert response.json() == {
        "resource": "students",
        "upserted": 0,
        "deleted": 1,
        "not_found": 1,
        "last_change_seq": 5,
    }
    row = await session.scalar(select(MisRecordRow).where(MisRecordRow.record_id == "stu-00001"))
    assert row is not None
    assert row.deleted_at is not None
    assert row.sealed is None
    assert row.key_id is None
    assert row.change_seq == 4
    again = await post(client, token, "students", {"delete": ["stu-00001"]})
    assert again.json()["not_found"] == 1
    revived = await post(client, token, "students", {"upsert": [student(1)]})
    assert revived.status_code == 200
    await session.refresh(row)
    assert row.deleted_at is None
    assert row.sealed is not None


async def test_group_memberships_follow_group_upserts_and_deletes(
    client: httpx.AsyncClient, token: str, session: AsyncSession
) -> None:
    await post(client, token, "groups", {"upsert": [group("7a", ["s1", "s2"], supervisor_staff_ids=["t1"])]})
    await post(client, token, "groups", {"upsert": [group("7a", ["s2", "s3"])]})
    members = (await session.execute(select(GroupMembership.role, GroupMembership.member_id))).all()
    assert sorted(members) == [("student", "s2"), ("student", "s3")]
    await post(client, token, "groups", {"delete": ["7a"]})
    assert (await session.execute(select(GroupMembership))).first() is None


async def test_idempotency_key_replays_without_changing_anything(
    client: httpx.AsyncClient, token: str
) -> None:
    body = {"upsert": students(10)}
    first = await post(client, token, "students", body, **{"idempotency-key": "batch-0001"})
    second = await post(client, token, "students", body, **{"idempotency-key": "batch-0001"})
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert (await status(client, token))["last_change_seq"] == 10
    other = await post(
        client, token, "students", {"upsert": students(11)}, **{"idempotency-key": "batch-0001"}
    )
    assert other.status_code == 409


@pytest.mark.parametrize("key", ["", "x" * 129, "has space", "caf\u00e9"])
async def test_bad_idempotency_keys(client: httpx.AsyncClient, token: str, key: str) -> None:
    response = await client.post(
        "/connector/v1/students/batch",
        json={"upsert": []},
        headers={**bearer(token), "idempotency-key": key.encode("utf-8")},  # type: ignore[dict-item]
    )
    assert response.status_code == 422


async def test_idempotency_keys_are_per_school(
    client: httpx.AsyncClient, token: str, other_token: str
) -> None:
    body = {"upsert": students(2)}
    assert (await post(client, token, "students", body, **{"idempotency-key": "k-1"})).status_code == 200
    other = await post(client, other_token, "students", body, **{"idempotency-key": "k-1"})
    assert other.status_code == 200
    assert "idempotent-replayed" not in other.headers


async def test_school_record_must_be_this_school(
    client: httpx.AsyncClient, token: str, school: School, other_school: School, session: AsyncSession
) -> None:
    own = await post(client, token, "school", {"upsert": [school_record(school.urn)]})
    assert own.status_code == 200
    foreign = await post(client, token, "school", {"upsert": [school_record(other_school.urn)]})
    assert foreign.status_code == 422
    assert foreign.json()["errors"][0]["pointer"] == "#/upsert/0/urn"
    rows = (
        await session.scalars(select(MisRecordRow.school_id).where(MisRecordRow.resource == "school"))
    ).all()
    assert rows == [school.id]


async def test_a_key_only_ever_writes_its_own_school(
    client: httpx.AsyncClient,
    token: str,
    other_token: str,
    school: School,
    other_school: School,
    session: AsyncSession,
) -> None:
    await post(client, token, "students", {"upsert": students(3)})
    await post(client, other_token, "students", {"delete": ["stu-00000", "stu-00001"]})
    by_school = dict(
        (
            await session.execute(
                select(MisRecordRow.school_id, MisRecordRow.deleted_at).where(
                    MisRecordRow.record_id == "stu-00000"
                )
            )
        ).all()
    )
    assert by_school == {school.id: None}
    assert (await status(client, other_token))["resources"] == {}


async def test_a_body_over_the_connector_limit_is_413_before_it_is_read(
    client: httpx.AsyncClient, token: str, settings: Settings
) -> None:
    body = b'{"upsert": [], "delete": ["' + b"x" * settings.connector_max_body_bytes + b'"]}'
    response = await client.post(
        "/connector/v1/students/batch",
        content=body,
        headers={**bearer(token), "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


async def test_the_connector_limit_does_not_apply_elsewhere(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await client.post("/healthz", content=b"x" * (settings.max_body_bytes + 1))
    assert response.status_code == 413
