"""Recording, listing and verifying the authorisation log on a real database (SPEC §4, §5)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import delete, func, literal_column, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit import service
from gateway.audit.chain import GENESIS_HASH, BreakReason, BrokenLink
from gateway.audit.events import EventType, admin, app
from gateway.audit.models import AppendOnly, AuditEvent
from gateway.audit.service import ChainReport, UnreadableEvent, list_events, record_event, verify
from gateway.errors import NotFound
from gateway.schools.models import School
from tests.support.databases import backend

table = AuditEvent.metadata.tables["audit_events"]


async def record(session: AsyncSession, school: School, n: int, **extra: Any) -> AuditEvent:
    return await record_event(
        session,
        school_id=school.id,
        event_type=EventType.DATA_ACCESSED,
        actor=app("client-1"),
        details={"resource": "students", "records": n, **extra},
    )


async def log_of(session: AsyncSession, school: School, count: int) -> list[AuditEvent]:
    return [await record(session, school, n) for n in range(count)]


async def report(session: AsyncSession, school: School) -> ChainReport:
    (only,) = await verify(session, school.id)
    return only


async def tamper(session: AsyncSession, event: AuditEvent, **values: Any) -> None:
    """Change a stored row behind the gateway's back, as someone with database access could."""
    await session.execute(update(table).where(table.c.id == event.id).values(**values))


async def test_each_school_has_its_own_chain(
    session: AsyncSession, school: School, other_school: School
) -> None:
    first = await record_event(
        session,
        school_id=school.id,
        event_type=EventType.GRANT_APPROVED,
        actor=admin(uuid.uuid4()),
        details={"grant_id": uuid.uuid4(), "scopes": ["school", "students.basic"]},
    )
    theirs = await record(session, other_school, 1)
    second = await record(session, school, 2)
    third = await record(session, school, 3)
    theirs_too = await record(session, other_school, 4)

    assert [first.seq, second.seq, third.seq] == [1, 2, 3]
    assert [theirs.seq, theirs_too.seq] == [1, 2]
    assert first.prev_hash == theirs.prev_hash == GENESIS_HASH
    assert (second.prev_hash, third.prev_hash) == (first.hash, second.hash)
    assert theirs_too.prev_hash == theirs.hash
    assert len({first.hash, second.hash, third.hash, theirs.hash, theirs_too.hash}) == 5

    reports = {r.school_id: r for r in await verify(session)}
    assert reports[school.id] == ChainReport(school.id, events_checked=3, broken=None)
    assert reports[other_school.id] == ChainReport(other_school.id, events_checked=2, broken=None)
    assert (await report(session, school)).ok


async def test_the_stored_event(session: AsyncSession, school: School) -> None:
    grant_id = uuid.uuid4()
    when = datetime(2026, 11, 26, 10, 30, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    event = await record_event(
        session,
        school_id=school.id,
        event_type=EventType.GRANT_REVOKED,
        actor=admin(grant_id),
        details={"grant_id": grant_id},
        occurred_at=when,
    )
    session.expunge_all()
    stored = await session.get_one(AuditEvent, event.id)
    assert stored.event_type == "grant.revoked"
    assert stored.occurred_at == when
    assert stored.occurred_at.utcoffset() == timedelta(0)
    assert stored.details == f'{{"grant_id":"{grant_id}"}}'
    assert stored.chain_link() == event.chain_link()
    assert (await report(session, school)).ok


async def test_recording_takes_the_school_lock_without_changing_the_school(
    session: AsyncSession, school: School
) -> None:
    query = select(School.updated_at, School.change_seq).where(School.id == school.id)
    before = (await session.execute(query)).one()
    await log_of(session, school, 2)
    assert (await session.execute(query)).one() == before


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"actor": "jo.bloggs@school.example"}, ValueError),
        ({"details": {"email": "x"}}, ValueError),
        ({"details": {"ratio": 0.5}}, TypeError),
        ({"event_type": "grant.deleted"}, ValueError),
        ({"occurred_at": datetime(2026, 11, 26, 9, 30)}, ValueError),
    ],
    ids=["email-actor", "personal-details", "float-details", "unknown-type", "naive-time"],
)
async def test_unfit_events_are_refused_before_anything_is_written(
    session: AsyncSession, school: School, changes: dict[str, Any], error: type[Exception]
) -> None:
    arguments: dict[str, Any] = {
        "school_id": school.id,
        "event_type": EventType.ADMIN_LOGIN,
        "actor": admin(uuid.uuid4()),
        **changes,
    }
    with pytest.raises(error):
        await record_event(session, **arguments)
    assert await session.scalar(select(func.count()).select_from(AuditEvent)) == 0


async def test_no_log_for_a_school_that_does_not_exist(session: AsyncSession) -> None:
    with pytest.raises(NotFound):
        await record_event(session, school_id=uuid.uuid4(), event_type=EventType.PURGE, actor="operator")
    with pytest.raises(NotFound):
        await verify(session, uuid.uuid4())


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("details", '{"records":9999,"resource":"students"}', BreakReason.HASH_MISMATCH),
        (
            "details",
            '{"records": 2, "resource": "students"}',
            BreakReason.HASH_MISMATCH,
        ),  # same JSON, other bytes
        ("actor", "app:client-2", BreakReason.HASH_MISMATCH),
        ("event_type", "grant.approved", BreakReason.HASH_MISMATCH),
        ("occurred_at", datetime(2020, 1, 1, tzinfo=UTC), BreakReason.HASH_MISMATCH),
        ("hash", "e" * 64, BreakReason.HASH_MISMATCH),
        ("prev_hash", "e" * 64, BreakReason.PREVIOUS_HASH_MISMATCH),
    ],
)
async def test_a_changed_row_is_named(
    session: AsyncSession,
    school: School,
    other_school: School,
    column: str,
    value: object,
    reason: BreakReason,
) -> None:
    events = await log_of(session, school, 5)
    await log_of(session, other_school, 3)
    await tamper(session, events[2], **{column: value})
    assert await report(session, school) == ChainReport(school.id, 3, BrokenLink(3, events[2].id, reason))
    assert (await report(session, other_school)).ok


async def test_a_deleted_row_is_a_gap_before_the_next(session: AsyncSession, school: School) -> None:
    events = await log_of(session, school, 5)
    await session.execute(delete(table).where(table.c.id == events[2].id))
    broken = (await report(session, school)).broken
    assert broken == BrokenLink(4, events[3].id, BreakReason.SEQUENCE_GAP)


async def test_renumbered_rows_are_found(session: AsyncSession, school: School) -> None:
    events = await log_of(session, school, 3)
    await tamper(
        session, events[2], seq=-1
    )  # hidden below the first page? never: verify starts at the bottom
    assert (await report(session, school)).broken == BrokenLink(-1, events[2].id, BreakReason.SEQUENCE_GAP)


async def test_an_event_moved_to_another_school_breaks_that_school(
    session: AsyncSession, school: School, other_school: School
) -> None:
    mine = await log_of(session, school, 3)
    await log_of(session, other_school, 2)
    await tamper(session, mine[2], school_id=other_school.id)
    assert (await report(session, other_school)).broken == BrokenLink(
        3, mine[2].id, BreakReason.PREVIOUS_HASH_MISMATCH
    )


async def test_verification_reads_the_log_page_by_page(
    session: AsyncSession, school: School, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "VERIFY_PAGE", 2)
    events = await log_of(session, school, 4)
    assert await report(session, school) == ChainReport(school.id, 4, None)
    events.append(await record(session, school, 4))
    assert await report(session, school) == ChainReport(school.id, 5, None)
    await tamper(session, events[3], actor="operator")
    assert await report(session, school) == ChainReport(
        school.id, 4, BrokenLink(4, events[3].id, BreakReason.HASH_MISMATCH)
    )


async def test_an_empty_log_holds(session: AsyncSession, school: School) -> None:
    assert await report(session, school) == ChainReport(school.id, 0, None)


async def test_listing_is_per_school_and_paged(
    session: AsyncSession, school: School, other_school: School
) -> None:
    mine = await log_of(session, school, 5)
    await log_of(session, other_school, 4)
    first = await list_events(session, school.id, limit=2)
    rest = await list_events(session, school.id, after_seq=first[-1].seq)
    assert [e.id for e in first + rest] == [e.id for e in mine]
    assert {e.school_id for e in first + rest} == {school.id}
    assert await list_events(session, school.id, after_seq=5) == []
    assert len(await list_events(session, other_school.id)) == 4


@pytest.mark.parametrize("limit", [0, 1001])
async def test_listing_limits(session: AsyncSession, school: School, limit: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        await list_events(session, school.id, limit=limit)


async def test_the_orm_refuses_to_change_an_event(session: AsyncSession, school: School) -> None:
    event = await record(session, school, 1)
    event.details = "{}"
    with pytest.raises(AppendOnly, match="cannot be changed: the log is append-only"):
        await session.flush()
    await session.rollback()


async def test_the_orm_refuses_to_delete_an_event(session: AsyncSession, school: School) -> None:
    event = await record(session, school, 1)
    await session.delete(event)
    with pytest.raises(AppendOnly, match="cannot be deleted: the log is append-only"):
        await session.flush()
    await session.rollback()


async def test_one_seq_per_school_is_enforced_by_the_database(session: AsyncSession, school: School) -> None:
    event = await record(session, school, 1)
    twin = AuditEvent(
        school_id=school.id,
        seq=event.seq,
        event_type=event.event_type,
        actor=event.actor,
        occurred_at=event.occurred_at,
        details=event.details,
        prev_hash=event.prev_hash,
        hash=event.hash,
    )
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            session.add(twin)
    assert (await report(session, school)).ok


async def test_a_deleted_school_takes_its_log_with_it(
    session: AsyncSession, school: School, other_school: School
) -> None:
    await log_of(session, school, 2)
    await log_of(session, other_school, 1)
    session.expunge_all()
    await session.execute(delete(School).where(School.id == school.id))
    assert await session.scalar(select(func.count()).where(AuditEvent.school_id == school.id)) == 0
    assert (await report(session, other_school)).ok


@pytest.mark.skipif(backend() != "sqlite", reason="PostgreSQL's column types refuse such values")
async def test_an_unreadable_row_is_reported_not_crashed_on(session: AsyncSession, school: School) -> None:
    events = await log_of(session, school, 3)
    await tamper(session, events[1], occurred_at=literal_column("'yesterday'"))
    with pytest.raises(UnreadableEvent, match=f"school {school.id}.*altered outside the gateway"):
        await verify(session, school.id)
