"""Scope set -> the fields an app may see per resource; sensitive scopes; field owners (SPEC §2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.scopes import (
    CATALOGUE,
    RESOURCES,
    SCOPE_NAMES,
    SCOPES,
    UnknownScope,
    allowed_fields,
    expand,
    scopes_for_field,
    sensitive_scopes,
)

scope_sets = st.frozensets(st.sampled_from(SCOPE_NAMES))

SCHOOL_ONLY = {
    "school": {"id", "urn", "name", "la_code", "establishment_number", "phase", "mis_provider", "postcode"},
    "academic_years": {"id", "name", "start_date", "end_date"},
    "subjects": {"id", "code", "name"},
}


def names(text: str) -> set[str]:
    return set(text.split())


STUDENTS_BASIC = names(
    "id mis_id first_name last_name year_code registration_group_id start_date end_date enrolment_status"
)

ALL_PAIRS = sorted(
    (resource, name) for scope in SCOPES for resource, names in scope.fields.items() for name in names
)


def as_plain(mapping: object) -> dict[str, set[str]]:
    assert hasattr(mapping, "items")
    return {resource: set(names) for resource, names in mapping.items()}


# --- allowed_fields ----------------------------------------------------------------------------------------


def test_no_scopes_still_allow_the_school_record() -> None:
    assert as_plain(allowed_fields(set())) == SCHOOL_ONLY


def test_a_student_facet_brings_the_basic_fields_and_nothing_else() -> None:
    allowed = allowed_fields({"students.fsm"})
    assert as_plain(allowed) == {
        **SCHOOL_ONLY,
        "students": STUDENTS_BASIC | {"is_fsm", "is_fsm6", "fsm_periods", "fsm_review_date"},
    }
    assert "nhs_number" not in allowed["students"]


def test_scopes_sharing_a_resource_are_united() -> None:
    allowed = allowed_fields(["students.demographics", "students.identifiers"])
    assert allowed["students"] == STUDENTS_BASIC | {"dob", "gender", "upn", "former_upn", "uln", "pan"}


def test_a_scope_can_unlock_several_resources() -> None:
    allowed = allowed_fields({"contacts.basic"})
    assert allowed["contacts"] == {"id", "title", "first_name", "last_name"}
    assert allowed["student_contacts"] == {
        "id",
        "student_id",
        "contact_id",
        "relationship_type",
        "priority",
        "parental_responsibility",
    }
    assert "students" not in allowed


def test_staff_and_student_fields_of_the_same_name_stay_apart() -> None:
    allowed = allowed_fields({"staff.personal"})
    assert "dob" in allowed["staff"]
    assert "students" not in allowed


def test_ungranted_resources_are_absent_and_keys_follow_catalogue_order() -> None:
    allowed = allowed_fields({"exclusions", "groups"})
    assert list(allowed) == ["school", "academic_years", "subjects", "groups", "exclusions"]
    assert list(allowed_fields(SCOPE_NAMES)) == list(RESOURCES)


def test_everything_unlocks_every_field() -> None:
    allowed = allowed_fields(SCOPE_NAMES)
    assert sorted((resource, name) for resource, names in allowed.items() for name in names) == ALL_PAIRS


def test_the_result_is_read_only() -> None:
    allowed = allowed_fields({"groups"})
    with pytest.raises(TypeError):
        allowed["students"] = frozenset({"id"})  # type: ignore[index]
    assert isinstance(allowed["groups"], frozenset)


def test_unknown_scopes_and_bare_strings_are_rejected() -> None:
    with pytest.raises(UnknownScope):
        allowed_fields({"students.basic", "students.all"})
    with pytest.raises(TypeError):
        allowed_fields("students.basic")


@given(scope_sets)
def test_a_field_is_allowed_exactly_when_its_scope_is_granted(scopes: frozenset[str]) -> None:
    allowed = allowed_fields(scopes)
    granted = expand(scopes)
    for resource, name in ALL_PAIRS:
        (owner,) = scopes_for_field(resource, name)
        assert (name in allowed.get(resource, frozenset())) == (owner in granted)


@given(scope_sets, scope_sets)
def test_allowed_fields_are_monotone(first: frozenset[str], second: frozenset[str]) -> None:
    smaller, larger = allowed_fields(first), allowed_fields(first | second)
    for resource, names in smaller.items():
        assert names <= larger[resource]


# --- sensitive_scopes ------------------------------------------------------------------------------------


def test_sensitive_scopes_picks_out_the_sensitive_ones() -> None:
    chosen = {"school", "groups", "students.basic", "students.sen", "contacts.details", "exclusions"}
    assert sensitive_scopes(chosen) == {"students.sen", "contacts.details", "exclusions"}
    assert sensitive_scopes(set()) == frozenset()
    assert sensitive_scopes(["students.basic", "attendance.summaries"]) == frozenset()


def test_sensitive_scopes_rejects_unknown_names() -> None:
    with pytest.raises(UnknownScope):
        sensitive_scopes({"students.secrets"})


@given(scope_sets)
def test_sensitive_scopes_are_the_flagged_subset(scopes: frozenset[str]) -> None:
    assert sensitive_scopes(scopes) == {name for name in scopes if CATALOGUE[name].sensitive}


# --- scopes_for_field ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "name", "owner"),
    [
        ("students", "id", "students.basic"),
        ("students", "nhs_number", "students.medical"),
        ("students", "former_upn", "students.identifiers"),
        ("students", "dob", "students.demographics"),
        ("staff", "dob", "staff.personal"),
        ("students", "address", "students.contact_details"),
        ("contacts", "address", "contacts.details"),
        ("student_contacts", "parental_responsibility", "contacts.basic"),
        ("academic_years", "start_date", "school"),
        ("results", "grade", "assessment.results"),
    ],
)
def test_scopes_for_field_names_the_owner(resource: str, name: str, owner: str) -> None:
    assert scopes_for_field(resource, name) == {owner}


@pytest.mark.parametrize(
    ("resource", "name"),
    [("students", "shoe_size"), ("pets", "id"), ("attendance_sessions", "comments"), ("Students", "id")],
)
def test_scopes_for_an_unknown_field_is_empty(resource: str, name: str) -> None:
    assert scopes_for_field(resource, name) == frozenset()


def test_every_field_has_exactly_one_owner() -> None:
    for resource, name in ALL_PAIRS:
        owners = scopes_for_field(resource, name)
        assert len(owners) == 1
        (owner,) = owners
        assert name in CATALOGUE[owner].fields[resource]
