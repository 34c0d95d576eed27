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

__all__ = ["RANGE_START", "SCHOOL", "AudienceShape"]


# --- The rule, with the school, range start and audience as bound parameters ------------------------------

SCHOOL: Final[BindParameter[Any]] = bindparam("school_id", type_=Uuid())
RANGE_START: Final[BindParameter[Any]] = bindparam("range_start", type_=Date())
_GROUPS: Final[BindParameter[Any]] = bindparam("groups", expanding=True)
_EXCLUDE: Final[BindParameter[Any]] = bindparam("exclude", expanding=True)


@dataclass(frozen=True, slots=True)
class AudienceShape:
    """What a statement for an audience depends on besides its values: a statement is built once per
    shape, and `parameters` binds an audience of that shape (with the school and range start) to it."""

    by_groups: bool
    excluding: bool

    @classmethod
    def of(cls, audience: Audience) -> AudienceShape:
        return cls(audience.groups is not None, bool(audience.exclude))

    def visible_students(self, rows: FromClause) -> ColumnElement[bool]:
        """The condition on `rows` (mis_records or an alias, resource = students) for a pupil in the
        audience: not left before the range started, in the groups (if any), not excluded. The caller adds
        `school_id`, `resource` and `deleted_at IS NULL` (its index lookup)."""
        columns = rows.c
        conditions = [or_(columns.end_date.is_(None), columns.end_date >= RANGE_START)]
        if self.by_groups:
            members = select(GroupMembership.member_id).where(
                GroupMembership.school_id == SCHOOL,
                GroupMembership.role == "student",
                GroupMembership.group_id.in_(_GROUPS),
            )
            conditions.append(columns.record_id.in_(members))
        if self.excluding:
            conditions.append(columns.record_id.not_in(_EXCLUDE))
        return and_(*conditions)

    def visible_student_ids(self) -> Select[str]:
        """SELECT the ids of every pupil in the audience (a subquery for per-pupil resources, or a list)."""
        return select(MisRecordRow.record_id).where(
            MisRecordRow.school_id == SCHOOL,
            MisRecordRow.resource == "students",
            MisRecordRow.deleted_at.is_(None),
            self.visible_students(MisRecordRow.__table__),
        )

    @staticmethod
    def parameters(school_id: uuid.UUID, audience: Audience, range_start: date) -> dict[str, Any]:
        values: dict[str, Any] = {"school_id": school_id, "range_start": range_start}
        if audience.groups is not None:
            values["groups"] = sorted(audience.groups)
        if audience.exclude:
            values["exclude"] = sorted(audience.exclude)
        return values
