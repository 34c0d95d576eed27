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
from datetime import date

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.sql.expression import FromClause

from gateway.consent.audience import Audience
from gateway.mis.models import GroupMembership, MisRecordRow

__all__ = ["visible_student_ids", "visible_students"]


# --- The same rule in SQL -------------------------------------------------------------------------------


def visible_students(
    school_id: uuid.UUID, audience: Audience, range_start: date, rows: FromClause
) -> ColumnElement[bool]:
    """The condition on `rows` (mis_records or an alias, resource = students) for a pupil in the audience.

    The caller adds `school_id`, `resource` and `deleted_at IS NULL` (they are part of its index lookup).
    """
    columns = rows.c
    conditions: list[ColumnElement[bool]] = [or_(columns.end_date.is_(None), columns.end_date >= range_start)]
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


def visible_student_ids(school_id: uuid.UUID, audience: Audience, range_start: date) -> Select[str]:
    """SELECT the ids of every pupil in the audience (a subquery for per-pupil resources, or a list)."""
    students = MisRecordRow.__table__
    return select(MisRecordRow.record_id).where(
        MisRecordRow.school_id == school_id,
        MisRecordRow.resource == "students",
        MisRecordRow.deleted_at.is_(None),
        visible_students(school_id, audience, range_start, students),
    )
