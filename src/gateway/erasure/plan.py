"""What retention will do, school by school, and doing what is due (`gateway retention`, the scheduled job).

`plan` lists, per school, each purge that is due or falls due within a horizon: a scheduled whole-school
purge (connector deleted, deletion requested), the 12-month `inactive` purge and its warning a month
before, and former pupils grouped by the day they are due (a scheduled whole-school purge is listed
whatever the horizon: it is at most a week away). Counts and dates only, never a name.

`act_on_school` does what is due for one school by `today`, in the caller's transaction, holding the
school's row so that two runners (the scheduler in another process, an operator's `gateway retention
run`) cannot both act on it: the second finds it done. Whole-school purges come first (a school being
purged needs no pupil-by-pupil erasure); then former pupils; then the inactivity warning. Running it
again the same day does nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.erasure.activity import inactivity, warn_admins
from gateway.erasure.pupil_purge import erase_pupils, leavers
from gateway.erasure.requests import pending_deletions
from gateway.erasure.school_purge import live_pupils, purge_school
from gateway.keys.keyring import Keyring
from gateway.retention import CONNECTOR_DELETED, DELETION_REQUESTED, FORMER_PUPIL, INACTIVE, RuleName
from gateway.schools.models import School

DEFAULT_HORIZON_DAYS = 31

Action = Literal["purge", "warn"]


@dataclass(frozen=True, slots=True)
class Planned:
    """One thing retention will do to a school: a purge under a rule (or the inactivity warning), on a day."""

    school_id: uuid.UUID
    urn: str
    rule: RuleName
    action: Action
    due_on: date
    pupils: int  # the former pupils erased; for a whole-school purge, the pupils the school holds
    overdue: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "school_id": str(self.school_id),
            "urn": self.urn,
            "rule": self.rule,
            "action": self.action,
            "due_on": self.due_on.isoformat(),
            "pupils": self.pupils,
            "due": self.overdue,
        }


@dataclass(slots=True)
class SchoolPlan:
    school: School
    items: list[Planned] = field(default_factory=list)
    undated_leavers: int = 0  # leavers with no date of birth: the former-pupil rule cannot place them


@dataclass(frozen=True, slots=True)
class Done:
    """What `act_on_school` did: the rule of each purge, the rows it removed or tombstoned, admins warned."""

    purges: dict[str, int] = field(default_factory=dict)  # rule → rows
    pupils: int = 0
    warned: int = 0

    @property
    def anything(self) -> bool:
        return bool(self.purges) or self.warned > 0


async def schools_in_order(session: AsyncSession) -> list[School]:
    return list(await session.scalars(select(School).order_by(School.urn)))


async def plan_school(
    session: AsyncSession,
    keyring: Keyring,
    school: School,
    today: date,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> SchoolPlan:
    horizon = today + timedelta(days=horizon_days)
    planned = SchoolPlan(school)

    def add(rule: RuleName, action: Action, due_on: date, pupils: int) -> None:
        planned.items.append(Planned(school.id, school.urn, rule, action, due_on, pupils, due_on <= today))

    held = await live_pupils(session, school.id)
    for deletion in await pending_deletions(session, school.id):
        add(deletion.rule, "purge", deletion.due_on, held)  # type: ignore[arg-type]
    found = await inactivity(session, school)
    if found is not None and found.warning_on <= horizon:
        if not found.warned:
            add(INACTIVE.name, "warn", found.warning_on, 0)
        add(INACTIVE.name, "purge", found.due_on, held)
    left = await leavers(session, keyring, school.id)
    planned.undated_leavers = left.undated
    by_day: dict[date, int] = {}
    for pupil in left.placed:
        if pupil.due_on <= horizon:
            by_day[pupil.due_on] = by_day.get(pupil.due_on, 0) + 1
    for day, count in sorted(by_day.items()):
        add(FORMER_PUPIL.name, "purge", day, count)
    planned.items.sort(key=lambda item: (item.due_on, item.rule, item.action))
    return planned


# Broadest first: a school leaving (request or inactivity) loses more than one whose connector went.
_WHOLE_SCHOOL_ORDER: tuple[RuleName, ...] = (DELETION_REQUESTED.name, INACTIVE.name, CONNECTOR_DELETED.name)


async def act_on_school(
    session: AsyncSession,
    keyring: Keyring,
    school_id: uuid.UUID,
    *,
    today: date,
    now: datetime,
    actor: str,
    issuer: str,
) -> Done:
    """Do what is due for the school by the end of `today` (see the module's docstring)."""
    school = await session.scalar(select(School).where(School.id == school_id).with_for_update())
    if school is None:
        return Done()
    due_rules = {d.rule for d in await pending_deletions(session, school.id) if d.due_on <= today}
    found = await inactivity(session, school)
    if found is not None and found.due_on <= today:
        due_rules.add(INACTIVE.name)
    for rule in _WHOLE_SCHOOL_ORDER:
        if rule in due_rules:
            purged = await purge_school(session, keyring, school, rule=rule, actor=actor, now=now)
            return Done({rule: purged.record.rows}, pupils=purged.record.pupils)
    purges: dict[str, int] = {}
    pupils = 0
    due_pupils = (await leavers(session, keyring, school.id)).due_by(today)
    if due_pupils:
        counts = await erase_pupils(session, keyring, school, due_pupils, actor=actor, now=now)
        if counts:
            purges[FORMER_PUPIL.name] = sum(counts.values())
            pupils = counts.get("students", 0)
    warned = 0
    if found is not None and found.warning_on <= today:
        warned = await warn_admins(session, found, issuer=issuer, actor=actor, now=now)
    return Done(purges, pupils, warned)
