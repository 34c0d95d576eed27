"""Tenant isolation at the repository: written as school A, invisible and untouchable as school B."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.keys.keyring import Keyring
from gateway.mis.ingest import apply_batch
from gateway.mis.models import GroupMembership, MisRecordRow
from gateway.mis.repository import RecordRepository
from gateway.mis.validation import validate_batch
from gateway.schools.models import School
from tests.support.records import group, students

TODAY = dt.date(2025, 1, 15)


@pytest.fixture
async def written(session: AsyncSession, keyring: Keyring, school: School) -> None:
    for resource, records in (("students", students(5)), ("groups", [group("7a", ["stu-00000"])])):
        await apply_batch(session, keyring, school, validate_batch(resource, records, [], today=TODAY))
    await session.flush()


@pytest.mark.usefixtures("written")
async def test_another_school_sees_and_changes_nothing(
    session: AsyncSession, keyring: Keyring, school: School, other_school: School
) -> None:
    theirs = RecordRepository(session, other_school.id)
    ids = [f"stu-{i:05d}" for i in range(5)]
    assert await theirs.counts() == []
    assert await theirs.live_ids("students", ids) == []
    assert await theirs.sealed_record("students", "stu-00000") is None
    assert await theirs.unseen_ids("students", uuid.uuid4()) == []
    assert await theirs.tombstone("students", ids, first_seq=1) == []
    await theirs.replace_memberships({"7a": []})
    await apply_batch(session, keyring, other_school, validate_batch("students", [], ids, today=TODAY))

    mine = RecordRepository(session, school.id)
    assert await mine.live_ids("students", ids) == ids
    assert [row[:3] for row in await mine.counts()] == [("groups", 1, 0), ("students", 5, 0)]
    members = (await session.execute(select(GroupMembership.school_id, GroupMembership.member_id))).all()
    assert members == [(school.id, "stu-00000")]
    owners = set((await session.scalars(select(MisRecordRow.school_id))).all())
    assert owners == {school.id}
