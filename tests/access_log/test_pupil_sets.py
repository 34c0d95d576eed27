"""Which pupils each response carried (`access_log.pupil_sets`, issue 13 item 4): a set is stored once per
school under its digest, the log rows name it, a response about no pupil names none; two transactions
storing the same new set at once store it once, and one that rolls back leaves it to the other."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.access_log import pupil_sets, service
from gateway.access_log.models import DataAccess, DataAccessPupil, DataAccessPupilSet
from gateway.db import migrations
from gateway.db.engine import create_engine
from gateway.schools.models import School
from gateway.schools.service import create_school
from gateway.settings import Settings
from tests.support.databases import throwaway_database
from tests.support.world import World

SEVEN = frozenset(f"stu-{n:05d}" for n in range(7))


async def record(session: AsyncSession, school_id: uuid.UUID, *deliveries: service.Delivery) -> None:
    await service.record(
        session,
        school_id=school_id,
        app_id=uuid.uuid4(),
        client_id="gw_app_test",
        grant_id=uuid.uuid4(),
        deliveries=deliveries,
        request_id="req-1",
    )


async def stored(session: AsyncSession, school_id: uuid.UUID) -> tuple[int, dict[str, set[str]]]:
    sets = await session.scalar(
        select(func.count()).select_from(DataAccessPupilSet).where(DataAccessPupilSet.school_id == school_id)
    )
    members: dict[str, set[str]] = {}
    for digest, pupil in await session.execute(
        select(DataAccessPupil.digest, DataAccessPupil.student_id).where(
            DataAccessPupil.school_id == school_id
        )
    ):
        members.setdefault(digest, set()).add(pupil)
    return int(sets or 0), members


async def test_each_set_is_stored_once_and_named_by_every_row_that_carried_it(world: World) -> None:
    school = await world.school()
    groups = frozenset({"stu-00001", "stu-00009"})
    await record(
        world.session,
        school.id,
        service.Delivery("students", frozenset({"id"}), 7, SEVEN),
        service.Delivery("attendance_sessions", frozenset({"id"}), 20, SEVEN),  # the same pupils
        service.Delivery("groups", frozenset({"id", "student_ids"}), 3, groups),
        service.Delivery("staff", frozenset({"id"}), 4),  # about no pupil
    )
    await record(world.session, school.id, service.Delivery("students", frozenset({"id"}), 7, SEVEN))
    await world.session.commit()

    count, members = await stored(world.session, school.id)
    assert count == 2
    assert members == {pupil_sets.digest_of(SEVEN): set(SEVEN), pupil_sets.digest_of(groups): set(groups)}
    rows = (
        await world.session.execute(
            select(DataAccess.resource, DataAccess.pupil_set)
            .where(DataAccess.school_id == school.id)
            .order_by(DataAccess.id)
        )
    ).all()
    assert [tuple(row) for row in rows] == [
        ("students", pupil_sets.digest_of(SEVEN)),
        ("attendance_sessions", pupil_sets.digest_of(SEVEN)),
        ("groups", pupil_sets.digest_of(groups)),
        ("staff", None),
        ("students", pupil_sets.digest_of(SEVEN)),
    ]


async def test_the_same_pupils_at_another_school_are_that_schools_own_set(world: World) -> None:
    ours, theirs = await world.school(), await world.school()
    for school in (ours, theirs):
        await record(world.session, school.id, service.Delivery("students", frozenset({"id"}), 7, SEVEN))
    await world.session.commit()
    for school in (ours, theirs):
        assert (await stored(world.session, school.id))[0] == 1


def test_the_digest_is_of_the_set_not_of_its_order() -> None:
    assert pupil_sets.digest_of(["b", "a", "a"]) == pupil_sets.digest_of(["a", "b"])
    assert pupil_sets.digest_of(["a", "b"]) != pupil_sets.digest_of(["a", "b", "c"])
    assert pupil_sets.digest_of(["ab"]) != pupil_sets.digest_of(["a", "b"])


@pytest.mark.postgres_only
@pytest.mark.parametrize("first_commits", [True, False])
async def test_two_transactions_storing_one_new_set_store_it_once(
    tmp_path: Path, first_commits: bool
) -> None:
    async with throwaway_database(tmp_path) as url:
        engine = create_engine(Settings(database_url=url))
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        try:
            await migrations.upgrade(engine)
            async with sessions() as session, session.begin():
                school: School = await create_school(
                    session,
                    urn="820002",
                    name="Racing Academy",
                    la_code="201",
                    establishment_number="4002",
                    phase="secondary",
                )
            delivery = service.Delivery("students", frozenset({"id"}), 7, SEVEN)
            async with sessions() as first, sessions() as second:
                await first.begin()
                await record(first, school.id, delivery)  # holds the new set's row, uncommitted
                waiting = asyncio.create_task(record(second, school.id, delivery))
                await asyncio.sleep(0.3)
                assert not waiting.done()  # waits on the first transaction's row
                await (first.commit() if first_commits else first.rollback())
                await asyncio.wait_for(waiting, timeout=10)
                await second.commit()
            async with sessions() as session:
                count, members = await stored(session, school.id)
                logged = await session.scalar(select(func.count()).select_from(DataAccess))
            assert count == 1
            assert members == {pupil_sets.digest_of(SEVEN): set(SEVEN)}
            assert logged == (2 if first_commits else 1)
        finally:
            await engine.dispose()
