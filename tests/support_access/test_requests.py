"""A support request's life, and the one operator read it allows: live to the second, for the approved
resources only, each read in the school's log; another school's request is never found."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.models import AuditEvent
from gateway.errors import Forbidden, InvalidInput, NotFound
from gateway.keys.keyring import Keyring
from gateway.support import requests
from gateway.support.reading import support_read
from gateway.support.requests import AlreadyAnswered, RequestNotLive
from tests.support.accounts import Account

ASKED = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
ADMIN = "admin:00000000-0000-0000-0000-000000000001"


async def ask(session: AsyncSession, owner: Account, **changes: object) -> requests.SupportRequest:
    fields: dict[str, object] = {
        "operator": "jo.support",
        "reason": "Their nightly sync reports 3 pupils missing",
        "resources": ["students"],
        "hours": 4,
        "now": ASKED,
    } | changes
    return await requests.request_support(session, owner.school, **fields)  # type: ignore[arg-type]


async def logged(session: AsyncSession, owner: Account, kind: str) -> list[dict[str, object]]:
    rows = await session.scalars(
        select(AuditEvent.details)
        .where(AuditEvent.school_id == owner.school.id, AuditEvent.event_type == kind)
        .order_by(AuditEvent.seq)
    )
    return [json.loads(details) for details in rows]


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"operator": "jo smith@example.org"}, "#/by"),
        ({"operator": ""}, "#/by"),
        ({"reason": "   "}, "#/reason"),
        ({"reason": "x" * 501}, "#/reason"),
        ({"reason": "bad\x00reason"}, "#/reason"),
        ({"hours": 0}, "#/hours"),
        ({"hours": 169}, "#/hours"),
        ({"resources": ["students", "nuclear_codes"]}, "#/resources"),
        ({"resources": []}, "#/resources"),
        ({"purpose": "lunch"}, "#/purpose"),
    ],
)
async def test_a_bad_request_is_refused_naming_the_field(
    session: AsyncSession, account: Account, change: dict[str, object], pointer: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await ask(session, account, **change)
    assert refused.value.errors[0]["pointer"] == pointer
    assert await requests.requests_of(session, account.school.id) == []


async def test_approved_it_reads_until_the_second_it_ends_and_every_read_is_logged(
    session: AsyncSession, keyring: Keyring, loaded: Account
) -> None:
    row = await ask(session, loaded, resources=["students", "groups"])
    assert row.state_at(ASKED) == "pending"
    with pytest.raises(RequestNotLive):
        await support_read(session, keyring, row.id, resource="students", record_id=None, now=ASKED)
    with pytest.raises(Forbidden):  # an API key, or an admin without a second factor
        await requests.approve(
            session, loaded.school.id, row.id, actor=ADMIN, with_second_factor=False, now=ASKED
        )
    with pytest.raises(InvalidInput):  # more hours than asked for
        await requests.approve(
            session, loaded.school.id, row.id, actor=ADMIN, with_second_factor=True, now=ASKED, hours=5
        )
    approved = await requests.approve(
        session, loaded.school.id, row.id, actor=ADMIN, with_second_factor=True, now=ASKED, hours=2
    )
    ends = ASKED + timedelta(hours=2)
    assert approved.expires_at == ends
    with pytest.raises(AlreadyAnswered):
        await requests.decline(session, loaded.school.id, row.id, actor=ADMIN, now=ASKED)

    pupils = await support_read(session, keyring, row.id, resource="students", record_id=None, now=ASKED)
    assert [pupil["id"] for pupil in pupils] == [f"stu-{i:05d}" for i in range(5)]
    page = await support_read(
        session, keyring, row.id, resource="students", record_id=None, now=ASKED, after="stu-00001", limit=2
    )
    assert [pupil["id"] for pupil in page] == ["stu-00002", "stu-00003"]
    one = await support_read(
        session, keyring, row.id, resource="groups", record_id="reg-7a", now=ends - timedelta(seconds=1)
    )
    assert one[0]["student_ids"] == ["stu-00000", "stu-00001"]
    with pytest.raises(RequestNotLive):  # to the second
        await support_read(session, keyring, row.id, resource="students", record_id=None, now=ends)
    with pytest.raises(RequestNotLive, match="does not cover"):
        await support_read(session, keyring, row.id, resource="contacts", record_id=None, now=ASKED)
    with pytest.raises(NotFound):
        await support_read(session, keyring, row.id, resource="students", record_id="stu-99999", now=ASKED)

    reads = await logged(session, loaded, "support.read")
    assert [(read["resource"], read["record_ids"]) for read in reads] == [
        ("students", [f"stu-{i:05d}" for i in range(5)]),
        ("students", ["stu-00002", "stu-00003"]),
        ("groups", ["reg-7a"]),
    ]
    assert "first_name" in reads[0]["fields"]  # type: ignore[operator]
    assert all(read["request_id"] == str(row.id) for read in reads)
    assert "Amara" not in json.dumps(reads)  # ids and field names, never values
    assert [event["request_id"] for event in await logged(session, loaded, "support.approved")] == [
        str(row.id)
    ]


async def test_shortened_then_withdrawn_it_stops_at_once(
    session: AsyncSession, keyring: Keyring, loaded: Account
) -> None:
    row = await ask(session, loaded)
    await requests.approve(session, loaded.school.id, row.id, actor=ADMIN, with_second_factor=True, now=ASKED)
    later = ASKED + timedelta(minutes=10)
    with pytest.raises(InvalidInput):  # not sooner
        await requests.shorten(
            session, loaded.school.id, row.id, until=ASKED + timedelta(hours=5), actor=ADMIN, now=later
        )
    shortened = await requests.shorten(
        session, loaded.school.id, row.id, until=ASKED + timedelta(hours=1), actor=ADMIN, now=later
    )
    assert shortened.expires_at == ASKED + timedelta(hours=1)
    assert await support_read(session, keyring, row.id, resource="students", record_id="stu-00001", now=later)
    withdrawn = await requests.withdraw(session, loaded.school.id, row.id, actor=ADMIN, now=later)
    assert withdrawn.state_at(later) == "withdrawn"
    with pytest.raises(RequestNotLive):
        await support_read(session, keyring, row.id, resource="students", record_id=None, now=later)
    with pytest.raises(Exception, match="not live"):
        await requests.withdraw(session, loaded.school.id, row.id, actor=ADMIN, now=later)


async def test_declined_it_never_reads(session: AsyncSession, keyring: Keyring, loaded: Account) -> None:
    row = await ask(session, loaded)
    declined = await requests.decline(session, loaded.school.id, row.id, actor=ADMIN, now=ASKED)
    assert declined.state_at(ASKED) == "declined"
    with pytest.raises(RequestNotLive):
        await support_read(session, keyring, row.id, resource="students", record_id=None, now=ASKED)


async def test_another_schools_request_is_not_found(
    session: AsyncSession, loaded: Account, other_account: Account
) -> None:
    row = await ask(session, loaded)
    for action in (
        requests.approve(
            session, other_account.school.id, row.id, actor=ADMIN, with_second_factor=True, now=ASKED
        ),
        requests.decline(session, other_account.school.id, row.id, actor=ADMIN, now=ASKED),
        requests.withdraw(session, other_account.school.id, row.id, actor=ADMIN, now=ASKED),
    ):
        with pytest.raises(NotFound):
            await action
    assert (await requests.school_request(session, loaded.school.id, row.id)).state_at(ASKED) == "pending"
    assert await requests.requests_of(session, other_account.school.id) == []
