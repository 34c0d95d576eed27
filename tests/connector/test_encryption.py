"""Records are AES-256-GCM ciphertext under the school's data key (SPEC §3.8)."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.keys.envelope import DecryptionFailed, open_sealed, record_context
from gateway.keys.keyring import Keyring, KeyShredded
from gateway.mis.models import MisRecordRow
from gateway.models import metadata
from gateway.schools.models import School
from tests.support.http import bearer
from tests.support.records import students


async def load(session: AsyncSession, school: School, record_id: str) -> MisRecordRow:
    row = await session.scalar(
        select(MisRecordRow).where(MisRecordRow.school_id == school.id, MisRecordRow.record_id == record_id)
    )
    assert row is not None
    return row


async def open_row(session: AsyncSession, keyring: Keyring, row: MisRecordRow) -> dict[str, object]:
    assert row.key_id is not None
    assert row.sealed is not None
    key = await keyring.key(session, row.school_id, row.key_id)
    context = record_context(str(row.school_id), row.resource, row.record_id, str(row.key_id))
    opened: dict[str, object] = json.loads(open_sealed(key, row.sealed, context))
    return opened


@pytest.fixture
async def written(client: httpx.AsyncClient, token: str) -> list[dict[str, object]]:
    batch = students(4)
    response = await client.post(
        "/connector/v1/students/batch", json={"upsert": batch}, headers=bearer(token)
    )
    assert response.status_code == 200
    return batch


async def test_records_open_with_the_schools_key(
    written: list[dict[str, object]], session: AsyncSession, keyring: Keyring, school: School
) -> None:
    row = await load(session, school, "stu-00002")
    opened = await open_row(session, keyring, row)
    assert opened["first_name"] == written[2]["first_name"]
    assert opened["upn"] == written[2]["upn"]
    assert row.student_id == "stu-00002"
    assert row.year_code == written[2]["year_code"]


async def test_no_pupil_name_upn_or_dob_in_the_clear_anywhere(
    written: list[dict[str, object]], session: AsyncSession
) -> None:
    dumped = []
    for table in metadata.sorted_tables:
        for row in (await session.execute(select(table))).all():
            dumped.append(repr(tuple(row)))
    everything = "\n".join(dumped)
    for record in written:
        for field in ("first_name", "last_name", "upn", "dob"):
            assert str(record[field]) not in everything, field


async def test_ciphertext_moved_to_another_record_or_school_fails(
    client: httpx.AsyncClient,
    written: list[dict[str, object]],
    other_token: str,
    session: AsyncSession,
    keyring: Keyring,
    school: School,
    other_school: School,
) -> None:
    await client.post(
        "/connector/v1/students/batch", json={"upsert": students(2)}, headers=bearer(other_token)
    )
    mine, neighbour = await load(session, school, "stu-00000"), await load(session, school, "stu-00001")
    theirs = await load(session, other_school, "stu-00000")
    neighbour.sealed = mine.sealed
    with pytest.raises(DecryptionFailed):
        await open_row(session, keyring, neighbour)
    theirs.sealed, theirs.key_id = mine.sealed, mine.key_id
    with pytest.raises((DecryptionFailed, KeyShredded)):
        await open_row(session, keyring, theirs)
    theirs.key_id = (await load(session, other_school, "stu-00001")).key_id
    with pytest.raises(DecryptionFailed):
        await open_row(session, keyring, theirs)
    await session.rollback()


async def test_deleting_the_data_key_shreds_every_record(
    written: list[dict[str, object]],
    session: AsyncSession,
    keyring: Keyring,
    school: School,
    master_key_b64: str,
) -> None:
    row = await load(session, school, "stu-00000")
    assert await keyring.shred(session, school.id) == 1
    with pytest.raises(KeyShredded):
        await open_row(session, Keyring(keyring.master_key), row)
    with pytest.raises(KeyShredded):
        await open_row(session, keyring, row)


async def test_a_different_master_key_cannot_unwrap(
    written: list[dict[str, object]], session: AsyncSession, school: School
) -> None:
    row = await load(session, school, "stu-00000")
    with pytest.raises(DecryptionFailed):
        await open_row(session, Keyring(uuid.uuid4().bytes * 2), row)


async def test_sealed_values_are_distinct_for_identical_records(
    client: httpx.AsyncClient, token: str, session: AsyncSession, school: School
) -> None:
    same = students(1)[0]
    await client.post("/connector/v1/students/batch", json={"upsert": [same]}, headers=bearer(token))
    row = await load(session, school, "stu-00000")
    first = row.sealed
    await client.post("/connector/v1/students/batch", json={"upsert": [same]}, headers=bearer(token))
    await session.refresh(row)
    assert row.sealed is not None
    assert row.sealed != first
