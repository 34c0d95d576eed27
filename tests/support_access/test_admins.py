"""`gateway admin add` with the school's leave: the first admin as before; with admins, only a live
`add_admin` approval (spent once) or break glass, which every admin hears of."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.accounts.models import Admin
from gateway.email.models import OutboxMessage
from gateway.schools.models import School
from gateway.schools.settings import SchoolSettings
from gateway.support import requests
from gateway.support.admins import add_admin_with_leave
from gateway.support.requests import RequestNotLive
from tests.support.accounts import Account
from tests.support.audit import events_of
from tests.support.world import World
from tests.support_access.test_requests import ADMIN, ASKED

ISSUER = "https://gateway.example.org"


async def add(session: AsyncSession, school: School, email: str, **how: object) -> Admin:
    fields: dict[str, object] = {
        "issuer": ISSUER,
        "operator": "jo.support",
        "request_id": None,
        "break_glass_reason": None,
        "now": ASKED,
    } | how
    admin, _link = await add_admin_with_leave(session, school, email, **fields)  # type: ignore[arg-type]
    return admin


async def test_a_schools_first_admin_needs_no_leave(session: AsyncSession, world: World) -> None:
    school = await world.school("New Synthetic Academy")
    admin = await add(session, school, "first@new.example.org")
    assert admin.school_id == school.id


async def test_with_admins_only_a_live_approval_adds_one_and_only_once(
    session: AsyncSession, account: Account, other_account: Account
) -> None:
    with pytest.raises(RequestNotLive, match="needs their leave"):
        await add(session, account.school, "slipped.in@example.org")
    row = await requests.request_support(
        session,
        account.school,
        operator="jo.support",
        reason="The head asked for a new admin by phone",
        resources=[],
        hours=1,
        purpose="add_admin",
        now=ASKED,
    )
    with pytest.raises(RequestNotLive):  # pending
        await add(session, account.school, "new.admin@example.org", request_id=row.id)
    await requests.approve(
        session, account.school.id, row.id, actor=ADMIN, with_second_factor=True, now=ASKED
    )
    with pytest.raises(RequestNotLive, match="another school"):
        await add(session, other_account.school, "wrong@example.org", request_id=row.id)
    admin = await add(session, account.school, "new.admin@example.org", request_id=row.id)
    assert admin.school_id == account.school.id
    [(_actor, details)] = [
        event
        for event in await events_of(session, account.school.id, "admin.added")
        if event[1].get("request_id")
    ]
    assert details == {"admin_id": str(admin.id), "request_id": str(row.id)}
    with pytest.raises(RequestNotLive):  # spent
        await add(session, account.school, "another@example.org", request_id=row.id)


async def test_break_glass_adds_and_tells_every_admin_even_the_locked_out(
    session: AsyncSession, account: Account
) -> None:
    account.admin.locked_at = ASKED
    session.add(
        SchoolSettings(school_id=account.school.id, dpo_name="Trust DPO", dpo_email="dpo@trust.example.org")
    )
    await session.flush()
    admin = await add(
        session,
        account.school,
        "rescue@example.org",
        break_glass_reason="The only admin is locked out and left the school",
    )
    [(actor, details)] = await events_of(session, account.school.id, "admin.break_glass")
    assert actor == "operator"
    assert details["admin_id"] == str(admin.id)
    told = set(
        await session.scalars(
            select(OutboxMessage.to_address).where(OutboxMessage.subject.contains("break glass"))
        )
    )
    assert told == {account.email, "dpo@trust.example.org"}
    listed = await requests.requests_of(session, account.school.id)
    assert [(row.purpose, row.state_at(ASKED)) for row in listed] == [("add_admin", "break_glass")]
