"""A former pupil's erasure on their 25th birthday: who is due, what goes, what stays,
and that it happens once."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.models import AuditEvent
from gateway.db.base import utcnow
from gateway.erasure.models import PurgeRecord
from gateway.erasure.pupil_purge import FormerPupil, erase_pupils, leavers
from gateway.keys.keyring import Keyring
from gateway.mis.models import GroupMembership, MisRecordRow
from gateway.mis.reading import open_rows
from gateway.schools.models import School
from gateway.webhooks.models import WebhookMessage
from tests.support.leavers import (
    DUE,
    OLD_2_CONTACT,
    ON_ROLL,
    ONLY_OLD_CONTACT,
    SHARED_CONTACT,
    SOON,
    identifying_values,
)
from tests.support.world import World

TODAY = date(2026, 12, 5)


async def rows(session: AsyncSession, school: School, resource: str) -> dict[str, MisRecordRow]:
    found = await session.scalars(
        select(MisRecordRow)
        .where(MisRecordRow.school_id == school.id, MisRecordRow.resource == resource)
        .execution_options(populate_existing=True)
    )
    return {row.record_id: row for row in found}


async def everything_readable(session: AsyncSession, keyring: Keyring, school: School) -> str:
    """Every record the school's keys still open, as text: what anyone with the master key could read."""
    opened: list[object] = []
    resources = await session.scalars(
        select(MisRecordRow.resource).where(MisRecordRow.school_id == school.id).distinct()
    )
    for resource in list(resources):
        live = [row for row in (await rows(session, school, resource)).values() if row.sealed is not None]
        opened += await open_rows(session, keyring, school.id, resource, live)
    return json.dumps(opened)


async def test_leavers_are_placed_by_their_25th_birthday(
    session: AsyncSession, keyring: Keyring, loaded: School
) -> None:
    found = await leavers(session, keyring, loaded.id)
    assert found.placed == [
        FormerPupil("old-1", date(2025, 3, 1)),
        FormerPupil("old-2", date(2025, 3, 1)),  # born 29 February 2000: 1 March in 2025, a common year
        FormerPupil(SOON, date(2027, 1, 10)),
    ]
    assert found.undated == 1
    assert found.due_by(TODAY) == list(DUE)
    assert found.due_by(date(2027, 1, 10)) == [*DUE, SOON]


async def test_erasure_removes_every_record_about_them_and_keeps_everyone_else(
    session: AsyncSession, keyring: Keyring, loaded: School, world: World
) -> None:
    app = await world.app()
    app.webhook_url = "https://planner.example.com/hooks"
    await world.grant(loaded, app)
    before = (await session.scalar(select(School.change_seq).where(School.id == loaded.id))) or 0
    secrets = identifying_values()
    readable = await everything_readable(session, keyring, loaded)
    assert all(value in readable for value in secrets["old-1"])

    counts = await erase_pupils(session, keyring, loaded, list(DUE), actor="system", now=utcnow())
    await session.commit()

    assert counts == {
        "students": 2,
        "student_contacts": 3,
        "attendance_summaries": 1,
        "contacts": 2,
        "groups_updated": 1,
    }
    pupils = await rows(session, loaded, "students")
    for erased in DUE:
        assert pupils[erased].sealed is None  # a tombstone: ids only
        assert pupils[erased].deleted_at is not None
        assert pupils[erased].change_seq > before
    assert all(pupils[kept].sealed is not None for kept in [*ON_ROLL, SOON])
    contacts = await rows(session, loaded, "contacts")
    assert contacts[SHARED_CONTACT].sealed is not None  # still linked to a pupil on roll
    assert contacts[ONLY_OLD_CONTACT].sealed is None
    assert contacts[OLD_2_CONTACT].sealed is None
    links = await rows(session, loaded, "student_contacts")
    assert [rid for rid, row in sorted(links.items()) if row.sealed is not None] == ["link-2"]
    attendance = await rows(session, loaded, "attendance_summaries")
    assert attendance["att-1"].sealed is None
    assert attendance["att-2"].sealed is not None

    groups = await rows(session, loaded, "groups")
    [reg_a] = await open_rows(session, keyring, loaded.id, "groups", [groups["reg-a"]])
    assert reg_a["student_ids"] == [ON_ROLL[0]]
    assert groups["reg-a"].change_seq > before  # apps reading the changes feed see the group change
    members = await session.scalars(
        select(GroupMembership.member_id).where(
            GroupMembership.school_id == loaded.id, GroupMembership.group_id == "reg-a"
        )
    )
    assert sorted(members) == [ON_ROLL[0]]

    readable = await everything_readable(session, keyring, loaded)
    for erased, values in secrets.items():
        for value in values:
            assert value not in readable, (erased, value)

    record = await session.scalar(select(PurgeRecord).where(PurgeRecord.school_id == loaded.id))
    assert record is not None
    assert (record.rule, record.scope, record.pupils, record.rows) == ("former_pupil", "pupils", 2, 9)
    assert "old-1" not in record.counts
    event = await session.scalar(
        select(AuditEvent).where(AuditEvent.school_id == loaded.id, AuditEvent.event_type == "data.purged")
    )
    assert event is not None
    assert json.loads(event.details)["rule"] == "former_pupil"
    assert "old-1" not in event.details  # the log names no pupil
    message = await session.scalar(select(WebhookMessage).where(WebhookMessage.app_id == app.id))
    assert message is not None
    assert message.event_type == "school.data_purged"
    assert json.loads(message.payload)["data"]["student_ids"] == sorted(DUE)


async def test_a_second_erasure_finds_nothing_and_records_nothing(
    session: AsyncSession, keyring: Keyring, loaded: School
) -> None:
    assert await erase_pupils(session, keyring, loaded, list(DUE), actor="system", now=utcnow())
    assert await erase_pupils(session, keyring, loaded, list(DUE), actor="system", now=utcnow()) == {}
    assert await erase_pupils(session, keyring, loaded, [], actor="system", now=utcnow()) == {}
    assert await session.scalar(select(func.count()).select_from(PurgeRecord)) == 1
    assert (await leavers(session, keyring, loaded.id)).due_by(TODAY) == []


async def test_another_schools_pupils_are_out_of_reach(
    session: AsyncSession, keyring: Keyring, loaded: School, world: World
) -> None:
    other = await world.school("Other Synthetic School")
    assert await erase_pupils(session, keyring, other, list(DUE), actor="system", now=utcnow()) == {}
    pupils = await rows(session, loaded, "students")
    assert all(pupils[erased].sealed is not None for erased in DUE)
