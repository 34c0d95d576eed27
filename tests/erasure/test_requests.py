"""Deleting the MIS connector and asking for deletion: the 5-working-day clock, keys revoked, cancelling."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.models import AuditEvent
from gateway.connector import keys as connector_keys
from gateway.connector.models import ConnectorKey
from gateway.erasure.requests import cancel_deletion, delete_connector, pending_deletions, request_deletion
from gateway.errors import Conflict, NotFound
from gateway.keys.keyring import Keyring
from gateway.schools.models import School
from tests.support.connector_keys import issue_connector_key

# Friday 22 May 2026, 10:00 in London; Monday 25 May is the late-May bank holiday.
BEFORE_LATE_MAY = datetime(2026, 5, 22, 9, 0, tzinfo=UTC)
# Thursday 24 December 2026 at 23:30 UTC is still the 24th in London (GMT); Christmas, Boxing Day
# (Saturday, so Monday 28 is the substitute day) and New Year's Day do not count.
CHRISTMAS_EVE_LATE = datetime(2026, 12, 24, 23, 30, tzinfo=UTC)
# Sunday 31 May 2026 at 23:30 UTC is already Monday 1 June in London (BST).
LATE_SUNDAY_UTC = datetime(2026, 5, 31, 23, 30, tzinfo=UTC)


async def events(session: AsyncSession, school: School) -> list[tuple[str, dict[str, object]]]:
    rows = await session.execute(
        select(AuditEvent.event_type, AuditEvent.details)
        .where(AuditEvent.school_id == school.id)
        .order_by(AuditEvent.seq)
    )
    return [(kind, json.loads(details)) for kind, details in rows]


async def test_deleting_the_connector_revokes_every_key_and_starts_the_clock(
    session: AsyncSession, keyring: Keyring, school: School
) -> None:
    first = await issue_connector_key(session, keyring, school)
    await issue_connector_key(session, keyring, school)

    deletion = await delete_connector(session, school, actor="operator", now=BEFORE_LATE_MAY)

    assert (deletion.rule, deletion.requested_on, deletion.due_on) == (
        "connector_deleted",
        date(2026, 5, 22),
        date(2026, 6, 1),  # Tue 26, Wed 27, Thu 28, Fri 29, Mon 1 June
    )
    keys = await session.scalars(select(ConnectorKey).where(ConnectorKey.school_id == school.id))
    assert all(key.revoked_at is not None for key in keys)
    with pytest.raises(Exception, match="not valid"):
        await connector_keys.authenticate(session, keyring, f"Bearer {first}")
    with pytest.raises(Conflict, match="waiting to be purged"):
        await connector_keys.create_key(session, keyring, school.id, actor="operator")
    again = await delete_connector(session, school, actor="operator", now=BEFORE_LATE_MAY)
    assert again.id == deletion.id
    logged = await events(session, school)
    assert [kind for kind, _ in logged].count("connector.deleted") == 1
    assert [kind for kind, _ in logged].count("connector_key.revoked") == 2
    assert logged[-1] == (
        "connector.deleted",
        {"deletion_id": str(deletion.id), "due_on": "2026-06-01", "keys_revoked": 2},
    )
    with pytest.raises(NotFound):  # a connector deletion cannot be withdrawn
        await cancel_deletion(session, school, actor="operator", now=BEFORE_LATE_MAY)


@pytest.mark.parametrize(
    ("now", "requested_on", "due_on"),
    [
        (BEFORE_LATE_MAY, date(2026, 5, 22), date(2026, 6, 1)),
        (CHRISTMAS_EVE_LATE, date(2026, 12, 24), date(2027, 1, 5)),  # Tue 29, Wed 30, Thu 31, Mon 4, Tue 5
        (LATE_SUNDAY_UTC, date(2026, 6, 1), date(2026, 6, 8)),
    ],
)
async def test_a_deletion_request_is_due_at_the_end_of_the_5th_working_day(
    session: AsyncSession, school: School, now: datetime, requested_on: date, due_on: date
) -> None:
    deletion = await request_deletion(session, school, actor="admin:a1", now=now)
    assert (deletion.rule, deletion.requested_on, deletion.due_on) == (
        "deletion_requested",
        requested_on,
        due_on,
    )


async def test_a_request_is_made_once_and_can_be_cancelled_until_it_runs(
    session: AsyncSession, school: School
) -> None:
    asked = await request_deletion(session, school, actor="operator", now=BEFORE_LATE_MAY)
    assert (await request_deletion(session, school, actor="operator", now=BEFORE_LATE_MAY)).id == asked.id
    assert [row.id for row in await pending_deletions(session, school.id)] == [asked.id]

    cancelled = await cancel_deletion(session, school, actor="admin:a1", now=BEFORE_LATE_MAY)
    assert cancelled.id == asked.id
    assert cancelled.cancelled_by == "admin:a1"
    assert await pending_deletions(session, school.id) == []
    with pytest.raises(NotFound):
        await cancel_deletion(session, school, actor="operator", now=BEFORE_LATE_MAY)
    assert [kind for kind, _ in await events(session, school)] == ["deletion.requested", "deletion.cancelled"]
    assert (await request_deletion(session, school, actor="operator", now=BEFORE_LATE_MAY)).id != asked.id


async def test_another_schools_requests_are_its_own(
    session: AsyncSession, school: School, world_school: School
) -> None:
    await request_deletion(session, school, actor="operator", now=BEFORE_LATE_MAY)
    assert await pending_deletions(session, world_school.id) == []
    with pytest.raises(NotFound):
        await cancel_deletion(session, world_school, actor="operator", now=BEFORE_LATE_MAY)
