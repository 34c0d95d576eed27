"""Who is in a grant's audience (SPEC §3.3, §3.5): pure rules and the SQL that applies them.

A grant's audience is the whole school or chosen groups, minus excluded pupils (`Grant.audience`). A pupil
is in the audience when all of these hold:

- their student record is live (not deleted);
- the grant names no groups, or they are a student member of one of the named groups
  (`group_memberships`, kept by the connector from each group's `student_ids`);
- they are not excluded by the grant;
- they have not left, or left within the range: `end_date` is empty or on or after the first day of the
  current academic year (1 September). So an app still sees this year's leavers (for registers and
  reports made this year) and never a pupil who left in an earlier year.

Everything about a pupil (attendance, summaries, results, exclusions, contact links) follows the pupil;
a contact is visible only while linked to a pupil in the audience. Staff, groups, assessments and the
school's own records are not about one pupil: they are visible whatever the audience, staff only while
they have not left before the range, and a group's `student_ids` are cut to the audience.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.sql.expression import FromClause

from gateway.mis.models import GroupMembership, MisRecordRow

__all__ = [
    "Audience",
    "academic_year_start",
    "in_range",
    "student_in_audience",
    "visible_student_ids",
    "visible_students",
]


def academic_year_start(today: date) -> date:
    """1 September of the academic year `today` falls in (English schools' years run September-August)."""
    return date(today.year if today.month >= 9 else today.year - 1, 9, 1)


@dataclass(frozen=True, slots=True)
class Audience:
    """A grant's audience as of one day. `groups` None means the whole school."""

    groups: frozenset[str] | None
    exclude: frozenset[str]
    range_start: date

    @classmethod
    def of(cls, audience: Mapping[str, Any] | None, today: date) -> Audience:
        """From `Grant.audience` (None, or {"groups": [ids] | None, "exclude": [ids]})."""
        groups: frozenset[str] | None = None
        exclude: frozenset[str] = frozenset()
        if audience is not None:
            named = audience.get("groups")
            groups = None if named is None else frozenset(str(group) for group in named)
            exclude = frozenset(str(student) for student in audience.get("exclude") or ())
        return cls(groups=groups, exclude=exclude, range_start=academic_year_start(today))

    @property
    def key(self) -> str:
        """A canonical text of the audience, for ETags and fingerprints."""
        groups = "*" if self.groups is None else ",".join(sorted(self.groups))
        return f"{groups}|{','.join(sorted(self.exclude))}|{self.range_start.isoformat()}"


def in_range(end_date: date | None, audience: Audience) -> bool:
    """Whether someone who left on `end_date` (None: not left) is still shown."""
    return end_date is None or end_date >= audience.range_start


def student_in_audience(
    student_id: str, end_date: date | None, groups_of_student: Collection[str], audience: Audience
) -> bool:
    """The rule for one live pupil, given the groups they are a student member of. Pure."""
    if student_id in audience.exclude or not in_range(end_date, audience):
        return False
    return audience.groups is None or not audience.groups.isdisjoint(groups_of_student)


# --- The same rule in SQL -------------------------------------------------------------------------------


def visible_students(school_id: uuid.UUID, audience: Audience, rows: FromClause) -> ColumnElement[bool]:
    """The condition on `rows` (mis_records or an alias, resource = students) for a pupil in the audience.

    The caller adds `school_id`, `resource` and `deleted_at IS NULL` (they are part of its index lookup).
    """
    columns = rows.c
    conditions: list[ColumnElement[bool]] = [
        or_(columns.end_date.is_(None), columns.end_date >= audience.range_start)
    ]
    if audience.groups is not None:
        members = select(GroupMembership.member_id).where(
            GroupMembership.school_id == school_id,
            GroupMembership.role == "student",
            GroupMembership.group_id.in_(sorted(audience.groups)),
        )
        conditions.append(columns.record_id.in_(members))
    if audience.exclude:
        conditions.append(columns.record_id.not_in(sorted(audience.exclude)))
    return and_(*conditions)


def visible_student_ids(school_id: uuid.UUID, audience: Audience) -> Select[str]:
    """SELECT the ids of every pupil in the audience (a subquery for per-pupil resources, or a list)."""
    students = MisRecordRow.__table__
    return select(MisRecordRow.record_id).where(
        MisRecordRow.school_id == school_id,
        MisRecordRow.resource == "students",
        MisRecordRow.deleted_at.is_(None),
        visible_students(school_id, audience, students),
    )


def filter_ids(ids: Iterable[str], visible: Collection[str]) -> list[str]:
    """`ids` cut to those in `visible`, order kept (a group's `student_ids`)."""
    return [value for value in ids if value in visible]
