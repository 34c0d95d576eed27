"""Narrowing is one guarded UPDATE on the grant as it was read: a revoke, or a consent that widened the
grant, committing in between makes it miss instead of overwriting (409), and nothing else is written."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.consent import grants
from gateway.consent.audience import Audience
from gateway.consent.grants import GrantChanged, GrantEnded
from gateway.consent.models import Grant, SensitiveApproval
from gateway.consent.repository import SchoolGrants
from gateway.consent.rules import Narrowing, NarrowPlan
from gateway.db.base import utcnow
from gateway.keys.keyring import Keyring
from tests.support.audit import events_of
from tests.support.grants import Connected

PLAN = NarrowPlan(
    scopes=frozenset({"school", "groups", "students.basic", "students.demographics"}),
    removed=frozenset({"students.sen"}),
    audience=Audience(),
)


async def meanwhile(session: AsyncSession, connected: Connected, **values: Any) -> None:
    """Another request's change, committed; the session's loaded grant is left as it was read."""
    await session.execute(
        update(Grant)
        .where(Grant.id == connected.grant.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    await session.commit()


async def test_the_guarded_update_misses_a_grant_revoked_meanwhile(
    session: AsyncSession, connected: Connected
) -> None:
    repo = SchoolGrants(session, connected.grant.school_id)
    read = await repo.get(connected.grant.id)
    await meanwhile(session, connected, revoked_at=utcnow(), revoked_by="operator")
    assert await repo.narrow(read, PLAN, utcnow()) is False
    assert await session.get(SensitiveApproval, (connected.grant.id, "students.sen")) is not None


async def test_the_guarded_update_misses_a_grant_widened_meanwhile(
    session: AsyncSession, connected: Connected
) -> None:
    repo = SchoolGrants(session, connected.grant.school_id)
    read = await repo.get(connected.grant.id)
    await meanwhile(session, connected, scopes=read.scopes + " students.medical")
    assert await repo.narrow(read, PLAN, utcnow()) is False
    await meanwhile(
        session, connected, scopes=read.scopes, audience_json='{"exclude": [], "groups": ["yr7"]}'
    )
    assert await repo.narrow(read, PLAN, utcnow()) is False


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"revoked_at": utcnow(), "revoked_by": "operator"}, GrantEnded),
        (
            {"scopes": "school groups students.basic students.demographics students.sen students.medical"},
            GrantChanged,
        ),
    ],
)
async def test_narrow_answers_409_when_it_loses_the_race(
    session: AsyncSession,
    keyring: Keyring,
    connected: Connected,
    monkeypatch: pytest.MonkeyPatch,
    change: dict[str, Any],
    error: type[Exception],
) -> None:
    async def concurrent(*args: Any, **kwargs: Any) -> bool:
        """The grant was read and the narrowing decided; another request commits just before the UPDATE."""
        await meanwhile(session, connected, **change)
        return await original(*args, **kwargs)

    original = SchoolGrants.narrow
    monkeypatch.setattr(SchoolGrants, "narrow", concurrent)
    with pytest.raises(error) as caught:
        await grants.narrow(
            session,
            keyring,
            connected.grant.school_id,
            connected.grant.id,
            Narrowing(("students.sen",)),
            actor="operator",
            now=utcnow(),
        )
    assert getattr(caught.value, "status", None) == 409
    assert await events_of(session, connected.grant.school_id, "grant.narrowed") == []
