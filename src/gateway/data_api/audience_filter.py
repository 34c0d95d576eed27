"""A grant's audience (`consent.audience`) applied in SQL to the school's MIS rows (SPEC §3.5).

`consent.audience` says who is in an audience; these conditions say the same to the database, so a page
is filtered by its index lookup. Everything about a pupil (attendance, summaries, results, exclusions,
contact links) follows the pupil; a contact is visible only while linked to a pupil in the audience.
Staff, groups, assessments and the school's own records are not about one pupil: they are visible
whatever the audience, staff only while they have not left before the range, and a group's
`student_ids` are cut to the audience.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from sqlalchemy import ColumnElement, Date, Select, Uuid, and_, bindparam, or_, select
from sqlalchemy.sql.expression import BindParameter, FromClause

from gateway.consent.audience import Audience
from gateway.mis.models import GroupMembership, MisRecordRow

__all__ = ["AudienceShape", "visible_student_ids", "visible_students"]


# --- The same rule in SQL -------------------------------------------------------------------------------


def visible_students(
    school_id: uuid.UUID, audience: Audience, range_start: date, rows: FromClause
) -> ColumnElement[bool]:
    """The condition on `rows` (mis_records or an alias, resource = students) for a pupil in the audience.

    The caller adds `school_id`, `resource` and `deleted_at IS NULL` (they are part of its index lookup).
    """
    groups = sorted(audience.groups) if audience.groups is not None else None
    exclude = sorted(audience.exclude) if audience.exclude else None
    return _visible(rows, school_id, range_start, groups, exclude)


def visible_student_ids(school_id: uuid.UUID, audience: Audience, range_start: date) -> Select[str]:
    """SELECT the ids of every pupil in the audience (a subquery for per-pupil resources, or a list)."""
    groups = sorted(audience.groups) if audience.groups is not None else None
    exclude = sorted(audience.exclude) if audience.exclude else None
    return _visible_ids(school_id, range_start, groups, exclude)


# --- The same rule with bound parameters, for statements built once ------------------------------------

SCHOOL: Final[BindParameter[Any]] = bindparam("school_id", type_=Uuid())
RANGE_START: Final[BindParameter[Any]] = bindparam("range_start", type_=Date())
_GROUPS: Final[BindParameter[Any]] = bindparam("groups", expanding=True)
_EXCLUDE: Final[BindParameter[Any]] = bindparam("exclude", expanding=True)


@dataclass(frozen=True, slots=True)
class AudienceShape:
    """What a statement for an audience depends on besides its values: a statement is built once per
    shape (`template`), and `parameters` binds an audience of that shape to it."""

    by_groups: bool
    excluding: bool

    @classmethod
    def of(cls, audience: Audience) -> AudienceShape:
        return cls(audience.groups is not None, bool(audience.exclude))

    def visible_students(self, rows: FromClause) -> ColumnElement[bool]:
        """`visible_students` with the school, range start and audience as parameters."""
        return _visible(rows, SCHOOL, RANGE_START, *self._audience())

    def visible_student_ids(self) -> Select[str]:
        """`visible_student_ids` with the school, range start and audience as parameters."""
        return _visible_ids(SCHOOL, RANGE_START, *self._audience())

    def _audience(self) -> tuple[BindParameter[Any] | None, BindParameter[Any] | None]:
        return (_GROUPS if self.by_groups else None, _EXCLUDE if self.excluding else None)

    @staticmethod
    def parameters(school_id: uuid.UUID, audience: Audience, range_start: date) -> dict[str, Any]:
        values: dict[str, Any] = {"school_id": school_id, "range_start": range_start}
        if audience.groups is not None:
            values["groups"] = sorted(audience.groups)
        if audience.exclude:
            values["exclude"] = sorted(audience.exclude)
        return values


def _visible(
    rows: FromClause, school_id: Any, range_start: Any, groups: Any | None, exclude: Any | None
) -> ColumnElement[bool]:
    """The rule, once: left after the range started (or not left), in the groups (if any), not excluded."""
    columns = rows.c
    conditions: list[ColumnElement[bool]] = [or_(columns.end_date.is_(None), columns.end_date >= range_start)]
    if groups is not None:
        members = select(GroupMembership.member_id).where(
            GroupMembership.school_id == school_id,
            GroupMembership.role == "student",
            GroupMembership.group_id.in_(groups),
        )
        conditions.append(columns.record_id.in_(members))
    if exclude is not None:
        conditions.append(columns.record_id.not_in(exclude))
    return and_(*conditions)


def _visible_ids(school_id: Any, range_start: Any, groups: Any | None, exclude: Any | None) -> Select[str]:
    students = MisRecordRow.__table__
    return select(MisRecordRow.record_id).where(
        MisRecordRow.school_id == school_id,
        MisRecordRow.resource == "students",
        MisRecordRow.deleted_at.is_(None),
        _visible(students, school_id, range_start, groups, exclude),
    )
