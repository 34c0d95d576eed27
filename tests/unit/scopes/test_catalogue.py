"""The scope catalogue matches SPEC §2 exactly, and keeps its invariants."""

from __future__ import annotations

import ast
import dataclasses
import re
from collections import Counter
from pathlib import Path

import pytest

import gateway.scopes
from gateway.scopes import ALWAYS_GRANTED, CATALOGUE, RESOURCES, SCOPE_NAMES, SCOPES, Scope

# A second, independent copy of SPEC §2, so that an accidental edit of the catalogue fails here.
EXPECTED_TEXT: dict[str, dict[str, str]] = {
    "school": {
        "school": "id urn name la_code establishment_number phase mis_provider postcode",
        "academic_years": "id name start_date end_date",
        "subjects": "id code name",
    },
    "groups": {
        "groups": (
            "id type name code subject_id academic_year_id start_date end_date supervisor_staff_ids "
            "student_ids"
        ),
    },
    "students.basic": {
        "students": (
            "id mis_id first_name last_name year_code registration_group_id start_date end_date "
            "enrolment_status"
        ),
    },
    "students.identifiers": {"students": "upn former_upn uln pan"},
    "students.legal_names": {"students": "legal_first_name legal_last_name middle_names"},
    "students.former_names": {"students": "former_last_name"},
    "students.demographics": {"students": "dob gender"},
    "students.contact_details": {"students": "email address"},
    "students.ethnicity": {"students": "ethnicity_code ethnicity_group"},
    "students.languages": {
        "students": "first_language_code home_language_code is_eal proficiency_in_english",
    },
    "students.nationality": {"students": "nationalities country_of_birth"},
    "students.fsm": {"students": "is_fsm is_fsm6 fsm_periods fsm_review_date"},
    "students.pupil_premium": {"students": "is_pp pp_periods"},
    "students.care": {"students": "in_care ever_in_care service_child"},
    "students.sen": {"students": "sen_provision sen_needs"},
    "students.medical": {
        "students": "medical_conditions dietary_needs has_emergency_consent nhs_number",
    },
    "students.photo": {"students": "photo_url photo_hash"},
    "contacts.basic": {
        "contacts": "id title first_name last_name",
        "student_contacts": "id student_id contact_id relationship_type priority parental_responsibility",
    },
    "contacts.details": {"contacts": "emails telephone_numbers address"},
    "staff.basic": {
        "staff": (
            "id mis_id staff_code title first_name last_name work_email is_teaching_staff start_date end_date"
        ),
    },
    "staff.personal": {
        "staff": "dob gender ethnicity_code disability home_address personal_phone",
    },
    "attendance.sessions": {
        "attendance_sessions": "id student_id session_date session_name attendance_mark minutes_late",
    },
    "attendance.summaries": {
        "attendance_summaries": (
            "id student_id academic_year_id possible_sessions attended_sessions late_sessions "
            "authorised_absence_sessions unauthorised_absence_sessions"
        ),
    },
    "assessment.results": {
        "assessments": "id name family",
        "results": "id student_id assessment_id subject_id grade result_date",
    },
    "exclusions": {
        "exclusions": (
            "id student_id exclusion_type reason_codes start_date start_session end_date end_session "
            "length_sessions"
        ),
    },
}

EXPECTED = {
    scope: {resource: set(names.split()) for resource, names in fields.items()}
    for scope, fields in EXPECTED_TEXT.items()
}

SENSITIVE = {
    "students.former_names",
    "students.contact_details",
    "students.ethnicity",
    "students.languages",
    "students.nationality",
    "students.fsm",
    "students.pupil_premium",
    "students.care",
    "students.sen",
    "students.medical",
    "students.photo",
    "contacts.details",
    "staff.personal",
    "exclusions",
}

# The scope that owns each record type (and so its `id`).
OWNER = {
    "school": "school",
    "academic_years": "school",
    "subjects": "school",
    "groups": "groups",
    "students": "students.basic",
    "contacts": "contacts.basic",
    "student_contacts": "contacts.basic",
    "staff": "staff.basic",
    "attendance_sessions": "attendance.sessions",
    "attendance_summaries": "attendance.summaries",
    "assessments": "assessment.results",
    "results": "assessment.results",
    "exclusions": "exclusions",
}

SNAKE_CASE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
SCOPE_NAME = re.compile(r"[a-z]+(?:_[a-z]+)*(?:\.[a-z]+(?:_[a-z]+)*)?")


def test_there_are_25_scopes_in_spec_order() -> None:
    assert len(SCOPES) == 25
    assert list(SCOPE_NAMES) == list(EXPECTED)
    assert list(CATALOGUE) == list(EXPECTED)
    assert all(CATALOGUE[scope.name] is scope for scope in SCOPES)


def test_each_scope_unlocks_exactly_the_spec_fields() -> None:
    actual = {
        scope.name: {resource: set(names) for resource, names in scope.fields.items()} for scope in SCOPES
    }
    assert actual == EXPECTED


def test_sensitive_flags_follow_spec() -> None:
    assert {scope.name for scope in SCOPES if scope.sensitive} == SENSITIVE


def test_each_resource_field_pair_belongs_to_exactly_one_scope() -> None:
    owners = Counter(
        (resource, name) for scope in SCOPES for resource, names in scope.fields.items() for name in names
    )
    assert [pair for pair, count in owners.items() if count != 1] == []


def test_every_record_id_belongs_to_its_owning_scope() -> None:
    assert set(OWNER) == set(RESOURCES)
    for resource, owner in OWNER.items():
        assert "id" in CATALOGUE[owner].fields[resource], resource
    holders_of_an_id = {
        (resource, scope.name)
        for scope in SCOPES
        for resource, names in scope.fields.items()
        if "id" in names
    }
    assert holders_of_an_id == set(OWNER.items())


@pytest.mark.parametrize("scope", SCOPES, ids=SCOPE_NAMES)
def test_family_scopes_imply_their_basic_scope(scope: Scope) -> None:
    family, _, facet = scope.name.partition(".")
    if family in {"students", "contacts", "staff"} and facet != "basic":
        assert scope.implies == {f"{family}.basic"}
    else:
        assert scope.implies == frozenset()


def test_implied_scopes_exist() -> None:
    assert all(name in CATALOGUE for scope in SCOPES for name in scope.implies)


def test_school_is_always_granted() -> None:
    assert set(ALWAYS_GRANTED) == {"school"}
    assert not CATALOGUE["school"].sensitive


def test_resources_are_the_known_record_types_in_catalogue_order() -> None:
    assert RESOURCES == (
        "school",
        "academic_years",
        "subjects",
        "groups",
        "students",
        "contacts",
        "student_contacts",
        "staff",
        "attendance_sessions",
        "attendance_summaries",
        "assessments",
        "results",
        "exclusions",
    )
    assert CATALOGUE["contacts.basic"].resources == ("contacts", "student_contacts")
    assert CATALOGUE["students.fsm"].resources == ("students",)


@pytest.mark.parametrize("scope", SCOPES, ids=SCOPE_NAMES)
def test_names_are_well_formed(scope: Scope) -> None:
    assert SCOPE_NAME.fullmatch(scope.name)
    assert scope.fields, "a scope unlocks something"
    for resource, names in scope.fields.items():
        assert SNAKE_CASE.fullmatch(resource), resource
        assert names, resource
        assert all(SNAKE_CASE.fullmatch(name) for name in names), sorted(names)


@pytest.mark.parametrize("scope", SCOPES, ids=SCOPE_NAMES)
def test_titles_and_descriptions_read_well_on_a_consent_page(scope: Scope) -> None:
    assert scope.title == scope.title.strip()
    assert 0 < len(scope.title) <= 50
    assert scope.title[0].isupper()
    assert scope.description == scope.description.strip()
    assert 20 <= len(scope.description) <= 300
    assert scope.description[0].isupper()
    assert scope.description.endswith(".")
    assert "  " not in scope.description


def test_titles_are_distinct() -> None:
    assert len({scope.title for scope in SCOPES}) == len(SCOPES)


def test_scopes_are_immutable_and_hashable() -> None:
    scope = CATALOGUE["students.fsm"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        scope.sensitive = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        scope.fields["students"] = frozenset()  # type: ignore[index]
    with pytest.raises(TypeError):
        CATALOGUE["nope"] = scope  # type: ignore[index]
    assert isinstance(scope.fields["students"], frozenset)
    assert len({hash(s) for s in SCOPES}) == len(SCOPES)
    assert scope == dataclasses.replace(scope)


def test_the_package_imports_nothing_else_from_gateway() -> None:
    package = Path(gateway.scopes.__file__).parent
    imported: set[str] = set()
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    from_gateway = {name for name in imported if name.split(".")[0] == "gateway"}
    assert from_gateway
    assert all(name.startswith("gateway.scopes.") for name in from_gateway), sorted(from_gateway)
