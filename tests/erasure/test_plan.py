"""What retention plans, and doing what is due: each rule on its day, once, and the inactivity warning."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.email.models import OutboxMessage
from gateway.erasure.models import PurgeRecord
from gateway.erasure.plan import act_on_school, plan_school
from gateway.erasure.requests import request_deletion
from gateway.jobs.retention import retention_job
from gateway.keys.keyring import Keyring
from gateway.mis.models import MisRecordRow
from gateway.schools.models import School
from tests.support.accounts import make_account

ISSUER = "https://gateway.example.org"
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # a deletion asked now is due Monday 7 December


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, 0, tzinfo=UTC)


async def act(session: AsyncSession, keyring: Keyring, school: School, day: date) -> dict[str, int]:
    done = await act_on_school(
        session, keyring, school.id, today=day, now=at(day), actor="system", issuer=ISSUER
    )
    return done.purges


def table(items: list[object]) -> list[tuple[str, str, str, int, bool]]:
    return [(i.rule, i.action, i.due_on.isoformat(), i.pupils, i.overdue) for i in items]  # type: ignore[attr-defined]


async def test_the_plan_names_each_rule_and_day_and_a_run_does_what_is_due_once(
    session: AsyncSession, keyring: Keyring, loaded: School
) -> None:
    loaded.created_at = MONDAY  # active recently: the inactivity rule is a year away
    await request_deletion(session, loaded, actor="operator", now=MONDAY)

    plan = await plan_school(session, keyring, loaded, date(2026, 12, 5), horizon_days=40)
    assert table(plan.items) == [
        ("former_pupil", "purge", "2025-03-01", 2, True),
        ("deletion_requested", "purge", "2026-12-07", 8, False),
        ("former_pupil", "purge", "2027-01-10", 1, False),
    ]
    assert plan.undated_leavers == 1
    narrower = await plan_school(session, keyring, loaded, date(2026, 12, 5), horizon_days=0)
    assert [item.due_on for item in narrower.items] == [
        date(2025, 3, 1),
        date(2026, 12, 7),
    ]  # scheduled: always

    assert await act(session, keyring, loaded, date(2026, 12, 5)) == {"former_pupil": 9}
    assert await act(session, keyring, loaded, date(2026, 12, 5)) == {}
    assert await act(session, keyring, loaded, date(2026, 12, 6)) == {}  # Sunday: the request is due Monday
    purged = await act(session, keyring, loaded, date(2026, 12, 7))
    assert list(purged) == ["deletion_requested"]
    assert (
        await session.scalar(
            select(func.count()).select_from(MisRecordRow).where(MisRecordRow.school_id == loaded.id)
        )
        == 0
    )
    assert await act(session, keyring, loaded, date(2026, 12, 8)) == {}
    assert (await plan_school(session, keyring, loaded, date(2026, 12, 8), horizon_days=400)).items == []
    rules = await session.scalars(
        select(PurgeRecord.rule).where(PurgeRecord.school_id == loaded.id).order_by(PurgeRecord.purged_at)
    )
    assert list(rules) == ["former_pupil", "deletion_requested"]


async def test_a_year_without_activity_warns_the_admins_once_then_purges(
    session: AsyncSession, keyring: Keyring, loaded: School
) -> None:
    loaded.created_at = datetime(2025, 12, 31, 15, 0, tzinfo=UTC)
    owner = await make_account(session, "head@quiet.example.org", school=loaded)
    owner.admin.last_login_at = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)  # the last sign of life
    await session.flush()

    plan = await plan_school(session, keyring, loaded, date(2026, 12, 5))
    assert ("inactive", "warn", "2026-12-31", 0, False) in table(plan.items)
    assert ("inactive", "purge", "2027-01-31", 8, False) in table(plan.items)

    mails = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.to_address == owner.email)
    before = await session.scalar(mails)
    await act(session, keyring, loaded, date(2026, 12, 30))
    assert await session.scalar(mails) == before
    done = await act_on_school(
        session,
        keyring,
        loaded.id,
        today=date(2026, 12, 31),
        now=at(date(2026, 12, 31)),
        actor="system",
        issuer=ISSUER,
    )
    assert done.warned == 1
    assert await session.scalar(mails) == (before or 0) + 1
    warning = await session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.to_address == owner.email)
        .order_by(OutboxMessage.created_at.desc())
    )
    assert warning is not None
    assert "Sunday 31 January 2027" in warning.body_text
    assert "Quillon" not in warning.body_text
    again = await act_on_school(
        session,
        keyring,
        loaded.id,
        today=date(2027, 1, 2),
        now=at(date(2027, 1, 2)),
        actor="system",
        issuer=ISSUER,
    )
    assert again.warned == 0
    later = await plan_school(session, keyring, loaded, date(2027, 1, 2))
    assert [item for item in later.items if item.action == "warn"] == []

    assert list(await act(session, keyring, loaded, date(2027, 1, 31))) == ["inactive"]
    assert (
        await plan_school(session, keyring, loaded, date(2028, 6, 1))
    ).items == []  # nothing left, nobody to warn


async def test_signing_in_again_starts_a_new_year(
    session: AsyncSession, keyring: Keyring, loaded: School
) -> None:
    loaded.created_at = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
    owner = await make_account(session, "head@back.example.org", school=loaded)
    owner.admin.last_login_at = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    await session.flush()
    plan = await plan_school(session, keyring, loaded, date(2026, 12, 5), horizon_days=400)
    assert [(i.action, i.due_on) for i in plan.items if i.rule == "inactive"] == [
        ("warn", date(2027, 10, 20)),
        ("purge", date(2027, 11, 20)),
    ]


async def test_the_scheduled_job_does_the_same_for_every_school(
    session: AsyncSession, keyring: Keyring, loaded: School, world_school: School
) -> None:
    loaded.created_at = world_school.created_at = MONDAY
    job = retention_job(keyring.master_key, ISSUER, timedelta(hours=1))
    counts = await job.work(session, at(date(2026, 12, 5)))
    assert counts == {"former_pupil_rows": 9, "former_pupil_schools": 1}
    assert await job.work(session, at(date(2026, 12, 5))) == {}
