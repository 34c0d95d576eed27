"""The scope catalogue (SPEC §2): the 25 scopes as data, in their canonical order.

This module is the single source of truth for what each scope unlocks. The consent page shows
`title`, `description` and the fields; the token endpoint orders scopes by `SCOPE_NAMES`; the data API
projects records to the fields of the granted scopes; the docs are generated from it.

Rules the data obeys (tests enforce them):
- each (resource, field) pair belongs to exactly one scope;
- every record type's `id` belongs to its basic (owning) scope;
- any `students.*` scope implies `students.basic`, any `contacts.*` implies `contacts.basic`, any
  `staff.*` implies `staff.basic`; `school` is always granted (`ALWAYS_GRANTED`).

API metadata that every record carries whatever the scopes (`updated_at`, tombstones in the changes feed)
is not a field of any scope and is not listed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

__all__ = [
    "ALWAYS_GRANTED",
    "CATALOGUE",
    "RESOURCES",
    "SCOPES",
    "SCOPE_NAMES",
    "Scope",
]


@dataclass(frozen=True, slots=True)
class Scope:
    """One scope of SPEC §2: what it is called, what it reveals and whether it is sensitive.

    `fields` maps a resource name (a record type of the data API) to the field names of that resource the
    scope unlocks. `implies` lists the scopes granted along with this one.
    """

    name: str
    title: str
    description: str
    fields: Mapping[str, frozenset[str]] = field(hash=False)
    sensitive: bool = False
    implies: frozenset[str] = frozenset()

    @property
    def resources(self) -> tuple[str, ...]:
        """The resources this scope unlocks fields on, in catalogue order."""
        return tuple(self.fields)


def _scope(
    name: str,
    title: str,
    description: str,
    fields: Mapping[str, str],
    *,
    sensitive: bool = False,
    implies: tuple[str, ...] = (),
) -> Scope:
    """Build a Scope; `fields` maps each resource to its field names separated by spaces."""
    return Scope(
        name=name,
        title=title,
        description=description,
        fields=MappingProxyType({resource: frozenset(names.split()) for resource, names in fields.items()}),
        sensitive=sensitive,
        implies=frozenset(implies),
    )


_STUDENTS: Final = ("students.basic",)
_CONTACTS: Final = ("contacts.basic",)
_STAFF: Final = ("staff.basic",)

SCOPES: Final[tuple[Scope, ...]] = (
    _scope(
        "school",
        "School details",
        "The school's name, URN, DfE number, phase, postcode and MIS, its academic years and the subjects "
        "it teaches. Every app that connects to the school can see this.",
        {
            "school": "id urn name la_code establishment_number phase mis_provider postcode",
            "academic_years": "id name start_date end_date",
            "subjects": "id code name",
        },
    ),
    _scope(
        "groups",
        "Groups and classes",
        "Year groups, registration groups, teaching classes and houses: their names, codes, subjects and "
        "dates, which staff supervise them and which pupils are in them.",
        {
            "groups": (
                "id type name code subject_id academic_year_id start_date end_date supervisor_staff_ids "
                "student_ids"
            ),
        },
    ),
    _scope(
        "students.basic",
        "Pupils: basic details",
        "Each pupil's preferred first and last name, year group, registration group, the dates they joined "
        "and left, and their enrolment status.",
        {
            "students": (
                "id mis_id first_name last_name year_code registration_group_id start_date end_date "
                "enrolment_status"
            ),
        },
    ),
    _scope(
        "students.identifiers",
        "Pupils: official identifiers",
        "Each pupil's Unique Pupil Number (UPN), any former UPN, Unique Learner Number (ULN) and pupil "
        "admission number.",
        {"students": "upn former_upn uln pan"},
        implies=_STUDENTS,
    ),
    _scope(
        "students.legal_names",
        "Pupils: legal names",
        "Each pupil's legal first name, legal last name and middle names, where they differ from the names "
        "the pupil is known by.",
        {"students": "legal_first_name legal_last_name middle_names"},
        implies=_STUDENTS,
    ),
    _scope(
        "students.former_names",
        "Pupils: former names",
        "Each pupil's former last name. A change of name can reveal an adoption, a family separation or "
        "other private circumstances.",
        {"students": "former_last_name"},
        sensitive=True,
        implies=_STUDENTS,
    ),
    _scope(
        "students.demographics",
        "Pupils: date of birth and gender",
        "Each pupil's date of birth and gender.",
        {"students": "dob gender"},
        implies=_STUDENTS,
    ),
    _scope(
        "students.contact_details",
        "Pupils: email and home address",
        "Each pupil's own email address and their home address.",
        {"students": "email address"},
        sensitive=True,
        implies=_STUDENTS,
    ),
    _scope(
        "students.ethnicity",
        "Pupils: ethnicity",
        "Each pupil's recorded ethnicity (the DfE ethnicity code and its main group). Ethnicity is special "
        "category data under UK GDPR.",
        {"students": "ethnicity_code ethnicity_group"},
        sensitive=True,
        implies=_STUDENTS,
    ),
    _scope(
        "students.languages",
        "Pupils: languages",
        "Each pupil's first language and home language, whether they have English as an additional "
        "language, and their proficiency in English.",
        {"students": "first_language_code home_language_code is_eal proficiency_in_english"},
        sensitive=True,
        implies=_STUDENTS,
    ),
    _scope(
        "students.nationality",
        "Pupils: nationality and country of birth",
        "Each pupil's nationalities and country of birth.",
        {"students": "nationalities country_of_birth"},
        sensitive=True,
        implies=_STUDENTS,
    ),
    _scope(
        "students.fsm",
        "Pupils: free school meals",
        "Whether each pupil is eligible for free school meals, now or in the last six years, the periods "
        "of eligibility, and when eligibility is next reviewed.",
        {"students": "is_fsm is_fsm6 fsm_periods fsm_review_date"},
        sensitive=True,
        implies=_STUDENTS,
    ),
    _scope(
        "students.pupil_premium",
        "Pupils: pupil premium",
        "Whether each pupil attracts pupil premium funding, and for which periods.",
        {"students": "is_pp pp_periods"},
        sensitive=True,
        implies=_STUDENTS,
    ),
    _scope(
        "students.care",
        "Pupils: looked-after and service children",
        "Whether each pupil is looked after by the local authority now or has ever been, and whether they "
        "are a service child (a parent serves in the armed forces).",
        {"students": "in_care ever_in_care service_child"},
        sensitive=True,
        implies=_STUDENTS,
    ),
    _scope(
        "students.sen",
        "Pupils: special educational needs",
        "Each pupil's special educational needs provision (EHC plan, SEN support or none) and their ranked "
        "types of need with start and end dates.",
        {"students": "sen_provision sen_needs"},
        sensitive=True,
        implies=_STUDENTS,
    ),
    _scope(
        "students.medical",
        "Pupils: medical information",
        "Each pupil's medical conditions with the school's notes, dietary needs, whether consent for "
        "emergency treatment is held, and their NHS number. This is health data, special category data "
        "under UK GDPR.",
        {"students": "medical_conditions dietary_needs has_emergency_consent nhs_number"},
        sensitive=True,
        implies=_STUDENTS,
    ),
    _scope(
        "students.photo",
        "Pupils: photographs",
        "Each pupil's photograph, through a link that expires after a few minutes, and a fingerprint of "
        "the image to tell when it changes.",
        {"students": "photo_url photo_hash"},
        sensitive=True,
        implies=_STUDENTS,
    ),
    _scope(
        "contacts.basic",
        "Parents and contacts: names and relationships",
        "The names of each pupil's parents and other contacts, how they are related to the pupil, their "
        "order of contact and whether they have parental responsibility.",
        {
            "contacts": "id title first_name last_name",
            "student_contacts": "id student_id contact_id relationship_type priority parental_responsibility",
        },
    ),
    _scope(
        "contacts.details",
        "Parents and contacts: email, phone and address",
        "The email addresses, telephone numbers and home addresses of each pupil's parents and other "
        "contacts.",
        {"contacts": "emails telephone_numbers address"},
        sensitive=True,
        implies=_CONTACTS,
    ),
    _scope(
        "staff.basic",
        "Staff: basic details",
        "Each member of staff's name, title, staff code, work email, whether they teach, and the dates they "
        "joined and left.",
        {
            "staff": (
                "id mis_id staff_code title first_name last_name work_email is_teaching_staff start_date "
                "end_date"
            ),
        },
    ),
    _scope(
        "staff.personal",
        "Staff: personal details",
        "Each member of staff's date of birth, gender, ethnicity, disability, home address and personal "
        "phone number.",
        {"staff": "dob gender ethnicity_code disability home_address personal_phone"},
        sensitive=True,
        implies=_STAFF,
    ),
    _scope(
        "attendance.sessions",
        "Attendance: session marks",
        "Each pupil's attendance mark for every morning and afternoon session (the DfE attendance codes) "
        "and minutes late. The register's comments are never shared.",
        {
            "attendance_sessions": "id student_id session_date session_name attendance_mark minutes_late",
        },
    ),
    _scope(
        "attendance.summaries",
        "Attendance: yearly totals",
        "For each pupil and academic year, the number of possible sessions, sessions attended, late, and "
        "authorised and unauthorised absences.",
        {
            "attendance_summaries": (
                "id student_id academic_year_id possible_sessions attended_sessions late_sessions "
                "authorised_absence_sessions unauthorised_absence_sessions"
            ),
        },
    ),
    _scope(
        "assessment.results",
        "Assessment results",
        "The school's assessments and each pupil's results in them: subject, grade and date.",
        {
            "assessments": "id name family",
            "results": "id student_id assessment_id subject_id grade result_date",
        },
    ),
    _scope(
        "exclusions",
        "Suspensions and exclusions",
        "Each pupil's suspensions and permanent exclusions: the type, up to three reasons, the start and "
        "end dates and sessions, and the length in sessions.",
        {
            "exclusions": (
                "id student_id exclusion_type reason_codes start_date start_session end_date end_session "
                "length_sessions"
            ),
        },
        sensitive=True,
    ),
)

SCOPE_NAMES: Final[tuple[str, ...]] = tuple(scope.name for scope in SCOPES)
"""Every scope name in canonical (catalogue) order."""

CATALOGUE: Final[Mapping[str, Scope]] = MappingProxyType({scope.name: scope for scope in SCOPES})
"""Scope name -> Scope, iterating in catalogue order."""

RESOURCES: Final[tuple[str, ...]] = tuple(
    dict.fromkeys(resource for scope in SCOPES for resource in scope.fields)
)
"""Every resource some scope unlocks fields on, in order of first appearance in the catalogue."""

ALWAYS_GRANTED: Final[frozenset[str]] = frozenset({"school"})
"""Scopes every grant carries, asked for or not (SPEC §2)."""
