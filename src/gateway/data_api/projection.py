"""Which records and fields an app may receive: the resources of the data API and field projection. Pure.

Every resource belongs to one kind that says how the audience applies to it (see `audience`). The fields
an app receives are exactly `allowed_fields(expand(token scopes ∩ grant scopes))[resource]`: a field no
effective scope lists never leaves, so a sensitive field never leaves without its scope (the catalogue
gives each field exactly one owner). Records also carry `updated_at`, API metadata owned by no scope.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final

from gateway.scopes import allowed_fields, expand

__all__ = [
    "METADATA_FIELDS",
    "RESOURCES",
    "Kind",
    "Resource",
    "effective_scopes",
    "granted_fields",
    "project",
]


class Kind(StrEnum):
    SCHOOL = "school"  # the school's own records: always visible
    STAFF = "staff"  # visible unless they left before the range
    GROUPS = "groups"  # always visible; student_ids cut to the audience
    STUDENTS = "students"  # the audience itself
    PER_STUDENT = "per_student"  # visible when their student_id is in the audience
    CONTACTS = "contacts"  # visible when linked to a pupil in the audience


@dataclass(frozen=True, slots=True)
class Resource:
    name: str  # the catalogue's resource name, as stored and as the changes feed names it
    path: str  # under /api/v1
    kind: Kind
    title: str


RESOURCES: Final[Mapping[str, Resource]] = MappingProxyType(
    {
        resource.name: resource
        for resource in (
            Resource("school", "/school", Kind.SCHOOL, "The school"),
            Resource("academic_years", "/school/academic-years", Kind.SCHOOL, "Academic years"),
            Resource("subjects", "/school/subjects", Kind.SCHOOL, "Subjects"),
            Resource("groups", "/groups", Kind.GROUPS, "Groups"),
            Resource("students", "/students", Kind.STUDENTS, "Pupils"),
            Resource("contacts", "/contacts", Kind.CONTACTS, "Parents and contacts"),
            Resource("student_contacts", "/student-contacts", Kind.PER_STUDENT, "Pupil-contact links"),
            Resource("staff", "/staff", Kind.STAFF, "Staff"),
            Resource("attendance_sessions", "/attendance/sessions", Kind.PER_STUDENT, "Attendance marks"),
            Resource("attendance_summaries", "/attendance/summaries", Kind.PER_STUDENT, "Attendance totals"),
            Resource("assessments", "/assessments", Kind.SCHOOL, "Assessments"),
            Resource("results", "/results", Kind.PER_STUDENT, "Assessment results"),
            Resource("exclusions", "/exclusions", Kind.PER_STUDENT, "Suspensions and exclusions"),
        )
    }
)
"""Every resource of the data API, in the order the changes feed and the docs list them."""

METADATA_FIELDS: Final = frozenset({"updated_at"})
"""Fields every record carries whatever the scopes: not data of the school."""


def effective_scopes(token_scopes: Iterable[str]) -> frozenset[str]:
    """The scopes in force: the token's scopes ∩ the grant's (done by the bearer check), expanded."""
    return expand(token_scopes)


def granted_fields(token_scopes: Iterable[str]) -> Mapping[str, frozenset[str]]:
    """Resource -> the fields the effective scopes unlock; a resource not listed is not granted."""
    return allowed_fields(frozenset(token_scopes))


def project(
    record: Mapping[str, Any],
    resource: str,
    fields: frozenset[str],
    visible_students: Collection[str] | None = None,
) -> dict[str, Any]:
    """The record cut to `fields`. A group's `student_ids` are cut to `visible_students` (required then)."""
    projected = {name: value for name, value in record.items() if name in fields}
    if resource == "groups" and "student_ids" in projected:
        if visible_students is None:
            raise ValueError("a group's pupils need the audience to be cut to")
        projected["student_ids"] = [pupil for pupil in projected["student_ids"] if pupil in visible_students]
    return projected
