"""Connector record schemas (gateway.mis.records): a valid example of each, then each rule. No fixtures."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from gateway.mis.codes import EthnicityGroup
from gateway.mis.records import (
    RECORD_MODELS,
    AcademicYearRecord,
    AttendanceSessionRecord,
    AttendanceSummaryRecord,
    ContactRecord,
    ExclusionRecord,
    GroupRecord,
    SchoolRecord,
    StaffRecord,
    StudentRecord,
)

TODAY = date(2025, 1, 15)
UPN = "P207000016049"  # the worked example: 207 / 0000 / 16 / 049, check letter P
ULN = "9276308686"
NHS = "9434765919"

VALID: dict[str, dict[str, Any]] = {
    "school": {
        "id": "sch-1",
        "urn": "100000",
        "name": "Hillside Primary School",
        "la_code": "201",
        "establishment_number": "3614",
        "phase": "PS",
        "mis_provider": "Example MIS",
        "postcode": "EC1A 1BB",
    },
    "academic_years": {
        "id": "ay:2024",
        "name": "2024/25",
        "start_date": "2024-09-01",
        "end_date": "2025-08-31",
    },
    "subjects": {"id": "subj.ma", "code": "MA", "name": "Mathematics"},
    "groups": {
        "id": "g-7x-ma",
        "type": "teaching",
        "name": "7X Maths",
        "code": "7X/Ma",
        "subject_id": "subj.ma",
        "academic_year_id": "ay:2024",
        "start_date": "2024-09-01",
        "end_date": "2025-07-22",
        "supervisor_staff_ids": ["st-1"],
        "student_ids": ["s-1", "s-2"],
    },
    "students": {
        "id": "s-1",
        "mis_id": "1234",
        "first_name": "Amira",
        "last_name": "Khan",
        "year_code": "7",
        "registration_group_id": "g-7x",
        "start_date": "2024-09-01",
        "enrolment_status": "C",
        "upn": UPN,
        "former_upn": None,
        "uln": ULN,
        "pan": "A1234",
        "legal_first_name": "Amira",
        "legal_last_name": "Khan",
        "middle_names": "Noor",
        "former_last_name": "Ahmed",
        "dob": "2013-05-04",
        "gender": "F",
        "email": "amira.khan@pupils.example.sch.uk",
        "address": {"line1": "1 High Street", "town": "London", "postcode": "sw1a 1aa"},
        "ethnicity_code": "AMPK",
        "first_language_code": "URD",
        "home_language_code": "ENG",
        "proficiency_in_english": "D",
        "nationalities": ["GBR", "PAK"],
        "country_of_birth": "GBR",
        "is_fsm": True,
        "is_fsm6": True,
        "fsm_periods": [{"start_date": "2022-01-10"}],
        "fsm_review_date": "2025-03-31",
        "is_pp": True,
        "pp_periods": [{"start_date": "2022-01-10", "end_date": "2024-08-31"}],
        "in_care": False,
        "ever_in_care": True,
        "service_child": False,
        "sen_provision": "K",
        "sen_needs": [
            {
                "type_code": "SLCN",
                "type_name": "Speech, language and communication",
                "rank": 1,
                "start_date": "2023-01-09",
            },
            {"type_code": "SPLD", "rank": 2},
        ],
        "medical_conditions": [
            {"code": "ASTH", "name": "Asthma", "notes": "Inhaler in bag.\nSpare in office."}
        ],
        "dietary_needs": ["Halal"],
        "has_emergency_consent": True,
        "nhs_number": NHS,
        "photo_url": "https://photos.example.sch.uk/s-1.jpg",
        "photo_hash": "A" * 64,
    },
    "contacts": {
        "id": "c-1",
        "title": "Mrs",
        "first_name": "Sara",
        "last_name": "Khan",
        "emails": ["sara@example.com"],
        "telephone_numbers": [{"type": "Mobile", "number": "07700 900123"}],
        "address": {"line1": "1 High Street", "postcode": "SW1A 1AA"},
    },
    "student_contacts": {
        "id": "sc-1",
        "student_id": "s-1",
        "contact_id": "c-1",
        "relationship_type": "Mother",
        "priority": 1,
        "parental_responsibility": True,
    },
    "staff": {
        "id": "st-1",
        "mis_id": "9",
        "staff_code": "JSM",
        "title": "Mr",
        "first_name": "John",
        "last_name": "Smith",
        "work_email": "j.smith@example.sch.uk",
        "is_teaching_staff": True,
        "start_date": "2015-09-01",
        "dob": "1980-02-29",
        "gender": "M",
        "ethnicity_code": "WBRI",
        "disability": False,
        "home_address": {"line1": "2 Low Road", "postcode": "M1 1AE"},
        "personal_phone": "+44 (0)161 496 0000",
    },
    "attendance_sessions": {
        "id": "a-1",
        "student_id": "s-1",
        "session_date": "2024-09-02",
        "session_name": "am",
        "attendance_mark": "L",
        "minutes_late": 12,
    },
    "attendance_summaries": {
        "id": "as-1",
        "student_id": "s-1",
        "academic_year_id": "ay:2024",
        "possible_sessions": 380,
        "attended_sessions": 360,
        "late_sessions": 5,
        "authorised_absence_sessions": 15,
        "unauthorised_absence_sessions": 5,
    },
    "assessments": {"id": "as:ks2", "name": "KS2 SATs", "family": "KS2"},
    "results": {
        "id": "r-1",
        "student_id": "s-1",
        "assessment_id": "as:ks2",
        "subject_id": "subj.ma",
        "grade": "EXS",
        "result_date": "2024-07-09",
    },
    "exclusions": {
        "id": "x-1",
        "student_id": "s-1",
        "exclusion_type": "SUSP",
        "reason_codes": ["vp", "BU"],
        "start_date": "2024-11-04",
        "start_session": "PM",
        "end_date": "2024-11-05",
        "end_session": "PM",
        "length_sessions": 3,
    },
}


def validate(model: type[BaseModel], data: dict[str, Any], today: date = TODAY) -> Any:
    return model.model_validate(data, context={"today": today})


def errors(model: type[BaseModel], data: dict[str, Any], today: date = TODAY) -> list[tuple[Any, str]]:
    with pytest.raises(ValidationError) as caught:
        validate(model, data, today)
    return [(error["loc"], error["type"]) for error in caught.value.errors()]


def with_(resource: str, **changes: Any) -> dict[str, Any]:
    return {**VALID[resource], **changes}


def student(**changes: Any) -> dict[str, Any]:
    return with_("students", **changes)


# --- Every model ----------------------------------------------------------------------------------------


def test_resource_names() -> None:
    assert set(RECORD_MODELS) == {
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
    }


@pytest.mark.parametrize("resource", sorted(VALID))
def test_valid_example(resource: str) -> None:
    record = validate(RECORD_MODELS[resource], VALID[resource])
    assert record.id == VALID[resource]["id"]


@pytest.mark.parametrize("resource", sorted(VALID))
def test_unknown_fields_are_rejected(resource: str) -> None:
    assert errors(RECORD_MODELS[resource], with_(resource, comment="x")) == [
        (("comment",), "extra_forbidden")
    ]


@pytest.mark.parametrize("resource", sorted(VALID))
def test_records_are_frozen(resource: str) -> None:
    record = validate(RECORD_MODELS[resource], VALID[resource])
    with pytest.raises(ValidationError):
        record.id = "other"


@pytest.mark.parametrize("resource", sorted(VALID))
def test_minimal_record_needs_an_id(resource: str) -> None:
    data = dict(VALID[resource])
    del data["id"]
    assert (("id",), "missing") in errors(RECORD_MODELS[resource], data)


@pytest.mark.parametrize("record_id", ["a", "A-1_b.c:9", "x" * 64])
def test_record_ids_accept(record_id: str) -> None:
    assert validate(SchoolRecord, with_("school", id=record_id)).id == record_id


@pytest.mark.parametrize("record_id", ["", "x" * 65, "has space", "slash/no", "é", "a\nb", " "])
def test_record_ids_reject(record_id: str) -> None:
    assert errors(SchoolRecord, with_("school", id=record_id))[0][0] == ("id",)


def test_whitespace_is_trimmed_and_codes_upper_cased() -> None:
    record = validate(StudentRecord, student(first_name="  Amira ", year_code=" r ", gender="f"))
    assert (record.first_name, record.year_code, record.gender) == ("Amira", "R", "F")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_name", "x" * 101),
        ("middle_names", "x" * 201),
        ("first_name", ""),
        ("first_name", "a\tb"),
        ("pan", "x" * 21),
        ("email", "a@" + "b" * 250 + ".uk"),
    ],
)
def test_strings_are_bounded(field: str, value: str) -> None:
    assert errors(StudentRecord, student(**{field: value}))[0][0] == (field,)


@pytest.mark.parametrize(
    ("field", "size"),
    [("nationalities", 6), ("dietary_needs", 21), ("sen_needs", 21), ("fsm_periods", 51)],
)
def test_lists_are_bounded(field: str, size: int) -> None:
    item: Any = {
        "nationalities": "GBR",
        "dietary_needs": "Vegan",
        "sen_needs": {"type_code": "MLD", "rank": 1},
        "fsm_periods": {"start_date": "2020-01-01"},
    }[field]
    assert (field,) in [loc[:1] for loc, _ in errors(StudentRecord, student(**{field: [item] * size}))]


# --- School, years, groups ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("urn", "12345"),
        ("urn", "1234567"),
        ("urn", "12345a"),
        ("la_code", "999"),
        ("la_code", "20"),
        ("establishment_number", "361"),
        ("establishment_number", "36145"),
        ("phase", "XX"),
        ("postcode", "NOT A POSTCODE"),
    ],
)
def test_school_rejects(field: str, value: str) -> None:
    assert errors(SchoolRecord, with_("school", **{field: value}))[0][0] == (field,)


def test_school_postcode_is_normalised() -> None:
    assert validate(SchoolRecord, with_("school", postcode="ec1a1bb")).postcode == "EC1A 1BB"


@pytest.mark.parametrize(
    ("start", "end", "valid"),
    [
        ("2024-09-01", "2025-08-31", True),
        ("2024-09-01", "2024-09-01", False),
        ("2024-09-01", "2024-08-31", False),
        ("2024-09-01", "2025-10-31", False),
    ],
)
def test_academic_year_dates(start: str, end: str, valid: bool) -> None:
    data = with_("academic_years", start_date=start, end_date=end)
    if valid:
        validate(AcademicYearRecord, data)
    else:
        assert errors(AcademicYearRecord, data) == [(("end_date",), "date_order")]


@pytest.mark.parametrize("group_type", ["year", "registration", "teaching", "house"])
def test_group_types(group_type: str) -> None:
    data = with_("groups", type=group_type, subject_id=None)
    assert validate(GroupRecord, data).type == group_type


def test_group_rules() -> None:
    assert errors(GroupRecord, with_("groups", type="club")) == [(("type",), "literal_error")]
    assert errors(GroupRecord, with_("groups", type="year")) == [(("subject_id",), "inconsistent")]
    assert errors(GroupRecord, with_("groups", student_ids=["s-1", "s-2", "s-1"])) == [
        (("student_ids", 2), "duplicate")
    ]
    assert errors(GroupRecord, with_("groups", end_date="2024-08-01")) == [(("end_date",), "date_order")]
    assert errors(GroupRecord, with_("groups", supervisor_staff_ids=["bad id"]))[0][0] == (
        "supervisor_staff_ids",
        0,
    )


# --- Students: identifiers ------------------------------------------------------------------------------


def test_identifiers_are_normalised() -> None:
    record = validate(StudentRecord, student(upn="p207 000 016 049", nhs_number="943 476 5919"))
    assert (record.upn, record.nhs_number) == (UPN, NHS)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("upn", "A207000016049"),
        ("upn", "P999000016049"),
        ("upn", "P20700001604"),
        ("former_upn", "X"),
        ("uln", "9276308687"),
        ("uln", "0276308686"),
        ("uln", "927630868"),
        ("nhs_number", "9434765918"),
        ("nhs_number", "12345"),
        ("address", {"line1": "1 High St", "postcode": "ZZ1 1ZZZ"}),
    ],
)
def test_invalid_identifiers(field: str, value: Any) -> None:
    found = errors(StudentRecord, student(**{field: value}))
    assert found[0][0][0] == field
    assert found[0][1] in {"invalid_identifier", "string_too_long"}


def test_postcode_error_points_into_the_address() -> None:
    data = student(address={"line1": "1 High St", "postcode": "QQ1 1AA"})
    assert errors(StudentRecord, data) == [(("address", "postcode"), "invalid_identifier")]


def test_former_upn_differs_from_upn() -> None:
    assert errors(StudentRecord, student(former_upn=UPN)) == [(("former_upn",), "inconsistent")]


# --- Students: codes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "valid", "invalid"),
    [
        ("year_code", "N1", "15"),
        ("year_code", "X", "E1"),
        ("enrolment_status", "M", "P"),
        ("gender", "U", "X"),
        ("ethnicity_code", "WENG", "WPOL"),
        ("first_language_code", "PNJM", "RUM"),
        ("home_language_code", "CHIC", "YUE"),
        ("proficiency_in_english", "N", "F"),
        ("country_of_birth", "GB", "GREAT BRITAIN"),
    ],
)
def test_student_codes(field: str, valid: str, invalid: str) -> None:
    validate(StudentRecord, student(**{field: valid}))
    assert errors(StudentRecord, student(**{field: invalid}))[0][0] == (field,)


@pytest.mark.parametrize(
    ("code", "group"),
    [
        ("WBRI", EthnicityGroup.WHITE),
        ("WSCO", EthnicityGroup.WHITE),
        ("MWBA", EthnicityGroup.MIXED),
        ("ABAN", EthnicityGroup.ASIAN),
        ("BGHA", EthnicityGroup.BLACK),
        ("CTWN", EthnicityGroup.CHINESE),
        ("OARA", EthnicityGroup.ANY_OTHER),
        ("NOBT", EthnicityGroup.UNCLASSIFIED),
    ],
)
def test_ethnicity_group_is_derived(code: str, group: EthnicityGroup) -> None:
    assert validate(StudentRecord, student(ethnicity_code=code)).ethnicity_group is group


def test_ethnicity_group_must_match_the_code() -> None:
    assert (
        validate(StudentRecord, student(ethnicity_code="BSOM", ethnicity_group="Black")).ethnicity_group
        == "Black"
    )
    assert errors(StudentRecord, student(ethnicity_code="BSOM", ethnicity_group="White")) == [
        (("ethnicity_group",), "inconsistent")
    ]
    assert (
        validate(StudentRecord, student(ethnicity_code=None, ethnicity_group="Asian")).ethnicity_group
        == "Asian"
    )
    assert errors(StudentRecord, student(ethnicity_group="Purple"))[0][0] == ("ethnicity_group",)


@pytest.mark.parametrize(
    ("language", "given", "expected"),
    [
        ("ENG", None, False),
        ("ENB", False, False),
        ("POL", None, True),
        ("OTB", True, True),
        ("REF", None, None),
        ("NOT", True, True),
    ],
)
def test_is_eal_follows_first_language(language: str, given: bool | None, expected: bool | None) -> None:
    assert validate(StudentRecord, student(first_language_code=language, is_eal=given)).is_eal is expected


@pytest.mark.parametrize(("language", "given"), [("ENG", True), ("POL", False)])
def test_is_eal_contradicting_first_language(language: str, given: bool) -> None:
    assert errors(StudentRecord, student(first_language_code=language, is_eal=given)) == [
        (("is_eal",), "inconsistent")
    ]


def test_nationalities_are_distinct() -> None:
    assert errors(StudentRecord, student(nationalities=["GBR", "gbr"])) == [
        (("nationalities", 1), "duplicate")
    ]


# --- Students: dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dob", "start", "valid"),
    [
        ("2013-05-04", "2024-09-01", True),
        ("2022-09-01", "2024-09-01", True),
        ("2022-09-02", "2024-09-01", False),
        ("1998-09-02", "2024-09-01", True),
        ("1998-09-01", "2024-09-01", False),
        ("2020-01-01", None, True),
        ("2023-06-01", None, False),
        ("1990-01-01", None, False),
        ("2025-06-01", "2025-09-01", False),
    ],
)
def test_pupil_dob_is_plausible(dob: str, start: str | None, valid: bool) -> None:
    data = student(dob=dob, start_date=start)
    if valid:
        validate(StudentRecord, data)
    else:
        assert errors(StudentRecord, data) == [(("dob",), "implausible_dob")]


def test_today_comes_from_the_context() -> None:
    data = student(dob="2022-06-01", start_date=None)
    validate(StudentRecord, data, today=date(2025, 1, 15))
    assert errors(StudentRecord, data, today=date(2024, 1, 15)) == [(("dob",), "implausible_dob")]


def test_student_end_date_not_before_start() -> None:
    validate(StudentRecord, student(end_date="2024-09-01"))
    assert errors(StudentRecord, student(end_date="2024-08-31")) == [(("end_date",), "date_order")]


@pytest.mark.parametrize("field", ["fsm_periods", "pp_periods"])
def test_periods(field: str) -> None:
    touching = [{"start_date": "2020-01-01", "end_date": "2021-01-01"}, {"start_date": "2021-01-01"}]
    validate(StudentRecord, student(**{field: touching}))
    overlapping = [{"start_date": "2020-01-01", "end_date": "2021-06-01"}, {"start_date": "2021-01-01"}]
    assert errors(StudentRecord, student(**{field: overlapping})) == [((field, 1, "start_date"), "overlap")]
    backwards = [{"start_date": "2020-01-01", "end_date": "2019-01-01"}]
    assert errors(StudentRecord, student(**{field: backwards})) == [((field, 0, "end_date"), "date_order")]


# --- Students: flags ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"is_fsm": True, "is_fsm6": False}, "is_fsm6"),
        ({"in_care": True, "ever_in_care": False}, "ever_in_care"),
    ],
)
def test_flag_consistency(changes: dict[str, Any], loc: str) -> None:
    assert errors(StudentRecord, student(**changes)) == [((loc,), "inconsistent")]


def test_flags_may_be_unknown() -> None:
    validate(StudentRecord, student(is_fsm=True, is_fsm6=None, in_care=True, ever_in_care=None))


# --- Students: SEN --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provision", "needs"),
    [
        ("E", [{"type_code": "ASD", "rank": 1}, {"type_code": "SLCN", "rank": 2}]),
        ("K", [{"type_code": "NSA", "rank": 1}]),
        ("N", []),
        (None, [{"type_code": "PD", "rank": 1}]),
        ("k", [{"type_code": "semh", "rank": 1}]),
        (
            "K",
            [
                {"type_code": "MLD", "rank": 1, "end_date": "2022-07-20"},
                {"type_code": "SPLD", "rank": 1, "start_date": "2022-09-01"},
            ],
        ),
    ],
)
def test_sen_valid(provision: str | None, needs: list[dict[str, Any]]) -> None:
    validate(StudentRecord, student(sen_provision=provision, sen_needs=needs))


@pytest.mark.parametrize(
    ("provision", "needs", "expected"),
    [
        ("S", [], [(("sen_provision",), "retired_code")]),
        ("Q", [], [(("sen_provision",), "invalid_code")]),
        ("E", [{"type_code": "NSA", "rank": 1}], [(("sen_needs", 0, "type_code"), "inconsistent")]),
        ("N", [{"type_code": "MLD", "rank": 1}], [(("sen_needs", 0, "type_code"), "inconsistent")]),
        (
            "K",
            [{"type_code": "MLD", "rank": 1}, {"type_code": "HI", "rank": 1}],
            [(("sen_needs", 1, "rank"), "duplicate")],
        ),
        ("K", [{"type_code": "DYS", "rank": 1}], [(("sen_needs", 0, "type_code"), "invalid_code")]),
        ("K", [{"type_code": "MLD", "rank": 0}], [(("sen_needs", 0, "rank"), "greater_than_equal")]),
        (
            "K",
            [{"type_code": "MLD", "rank": 1, "start_date": "2024-01-01", "end_date": "2023-01-01"}],
            [(("sen_needs", 0, "end_date"), "date_order")],
        ),
    ],
)
def test_sen_invalid(provision: str, needs: list[dict[str, Any]], expected: list[tuple[Any, str]]) -> None:
    assert errors(StudentRecord, student(sen_provision=provision, sen_needs=needs)) == expected


# --- Students: medical and photo ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("photo_url", "http://photos.example/x.jpg"),
        ("photo_url", "https://"),
        ("photo_hash", "abc"),
        ("photo_hash", "g" * 64),
        ("medical_conditions", [{"code": "X"}]),
        ("medical_conditions", [{"name": "Asthma", "notes": "x" * 2001}]),
        ("dietary_needs", [""]),
    ],
)
def test_medical_and_photo_reject(field: str, value: Any) -> None:
    assert errors(StudentRecord, student(**{field: value}))[0][0][0] == field


def test_photo_hash_is_lower_cased() -> None:
    assert validate(StudentRecord, VALID["students"]).photo_hash == "a" * 64


# --- Contacts and staff ---------------------------------------------------------------------------------


def test_contact_rules() -> None:
    assert errors(ContactRecord, with_("contacts", emails=["a@x.uk", "A@X.uk"])) == [
        (("emails", 1), "duplicate")
    ]
    assert errors(ContactRecord, with_("contacts", emails=["not-an-email"]))[0][0] == ("emails", 0)
    assert errors(
        ContactRecord, with_("contacts", telephone_numbers=[{"type": "fax", "number": "0161 496 0000"}])
    )[0][0] == ("telephone_numbers", 0, "type")
    for number in ["12", "0161-ABC-0000", "+44 1234567890123456"]:
        bad = [{"type": "home", "number": number}]
        assert errors(ContactRecord, with_("contacts", telephone_numbers=bad))[0][0] == (
            "telephone_numbers",
            0,
            "number",
        )


def test_contact_without_first_name() -> None:
    validate(ContactRecord, with_("contacts", first_name=None, title="Dr"))


@pytest.mark.parametrize(
    ("dob", "start", "valid"),
    [
        ("1980-02-29", "2015-09-01", True),
        ("1999-09-01", "2015-09-01", True),
        ("1999-09-02", "2015-09-01", False),
        ("1900-01-01", None, False),
        ("2010-01-01", None, False),
    ],
)
def test_staff_dob_is_adult(dob: str, start: str | None, valid: bool) -> None:
    data = with_("staff", dob=dob, start_date=start)
    if valid:
        validate(StaffRecord, data)
    else:
        assert errors(StaffRecord, data) == [(("dob",), "implausible_dob")]


def test_staff_codes_and_dates() -> None:
    assert errors(StaffRecord, with_("staff", gender="Z"))[0][0] == ("gender",)
    assert errors(StaffRecord, with_("staff", ethnicity_code="XXXX"))[0][0] == ("ethnicity_code",)
    assert errors(StaffRecord, with_("staff", end_date="2014-01-01")) == [(("end_date",), "date_order")]
    assert errors(StaffRecord, with_("staff", staff_code="J SM"))[0][0] == ("staff_code",)


# --- Attendance -----------------------------------------------------------------------------------------


def session(**changes: Any) -> dict[str, Any]:
    return with_("attendance_sessions", **changes)


@pytest.mark.parametrize(
    ("mark", "day"),
    [
        ("/", "2024-09-02"),
        ("\\", "2024-09-02"),
        ("K", "2024-09-02"),
        ("c1", "2024-09-02"),
        ("Y4", "2024-09-02"),
        ("H", "2024-05-01"),
        ("J", "2024-08-18"),
        ("Y", "2023-11-01"),
        ("I", "2023-11-01"),
        ("#", "2024-12-20"),
    ],
)
def test_attendance_marks_accepted(mark: str, day: str) -> None:
    validate(AttendanceSessionRecord, session(attendance_mark=mark, session_date=day, minutes_late=None))


@pytest.mark.parametrize(
    ("mark", "day"),
    [("H", "2024-08-19"), ("J", "2024-09-02"), ("Y", "2025-01-06"), ("F", "2024-10-01")],
)
def test_retired_attendance_marks(mark: str, day: str) -> None:
    data = session(attendance_mark=mark, session_date=day, minutes_late=None)
    assert errors(AttendanceSessionRecord, data) == [(("attendance_mark",), "retired_code")]


@pytest.mark.parametrize(
    ("mark", "day"), [("K", "2024-08-18"), ("J1", "2024-05-01"), ("Y1", "2023-01-09"), ("A", "2024-09-02")]
)
def test_attendance_marks_not_valid_on_the_date(mark: str, day: str) -> None:
    data = session(attendance_mark=mark, session_date=day, minutes_late=None)
    assert errors(AttendanceSessionRecord, data) == [(("attendance_mark",), "invalid_code")]


@pytest.mark.parametrize(
    ("mark", "minutes", "valid"),
    [
        ("L", 0, True),
        ("U", 45, True),
        ("L", None, True),
        ("/", None, True),
        ("/", 5, False),
        ("I", 0, False),
        ("L", -1, False),
        ("L", 301, False),
    ],
)
def test_minutes_late(mark: str, minutes: int | None, valid: bool) -> None:
    data = session(attendance_mark=mark, minutes_late=minutes)
    if valid:
        validate(AttendanceSessionRecord, data)
    else:
        assert errors(AttendanceSessionRecord, data)[0][0] == ("minutes_late",)


def test_session_name() -> None:
    assert validate(AttendanceSessionRecord, session(session_name="pm")).session_name == "PM"
    assert errors(AttendanceSessionRecord, session(session_name="EV"))[0][0] == ("session_name",)


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"attended_sessions": 361}, "possible_sessions"),
        ({"possible_sessions": -1}, "possible_sessions"),
        ({"late_sessions": 366}, "late_sessions"),
        ({"authorised_absence_sessions": 1001}, "authorised_absence_sessions"),
    ],
)
def test_attendance_summary_rules(changes: dict[str, Any], loc: str) -> None:
    assert errors(AttendanceSummaryRecord, with_("attendance_summaries", **changes))[0][0] == (loc,)


def test_attendance_summary_may_leave_sessions_uncounted() -> None:
    validate(AttendanceSummaryRecord, with_("attendance_summaries", attended_sessions=300))


# --- Exclusions -----------------------------------------------------------------------------------------


def exclusion(**changes: Any) -> dict[str, Any]:
    return with_("exclusions", **changes)


def test_exclusion_normalises_suspension_and_reasons() -> None:
    record = validate(ExclusionRecord, VALID["exclusions"])
    assert (record.exclusion_type, record.reason_codes) == ("FIXD", ["VP", "BU"])


@pytest.mark.parametrize("kind", ["PERM", "FIXD", "LNCH", "susp", "perm"])
def test_exclusion_types_accepted(kind: str) -> None:
    validate(ExclusionRecord, exclusion(exclusion_type=kind))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"exclusion_type": "EXPEL"}, [(("exclusion_type",), "invalid_code")]),
        ({"reason_codes": []}, [(("reason_codes",), "too_short")]),
        ({"reason_codes": ["PP", "PA", "VP", "VA"]}, [(("reason_codes",), "too_long")]),
        ({"reason_codes": ["PP", "pp"]}, [(("reason_codes", 1), "duplicate")]),
        ({"reason_codes": ["PA1"]}, [(("reason_codes", 0), "invalid_code")]),
        ({"reason_codes": ["BU", "OT"]}, [(("reason_codes", 1), "retired_code")]),
        ({"end_date": "2024-11-01"}, [(("end_date",), "date_order")]),
        ({"end_date": None}, [(("end_session",), "inconsistent")]),
        ({"end_date": "2024-11-04", "end_session": "AM"}, [(("end_session",), "date_order")]),
        ({"start_session": "EV"}, [(("start_session",), "literal_error")]),
        ({"length_sessions": 91}, [(("length_sessions",), "inconsistent")]),
        ({"length_sessions": -1}, [(("length_sessions",), "greater_than_equal")]),
    ],
)
def test_exclusion_rules(changes: dict[str, Any], expected: list[tuple[Any, str]]) -> None:
    assert errors(ExclusionRecord, exclusion(**changes)) == expected


def test_exclusion_historic_and_permanent() -> None:
    validate(ExclusionRecord, exclusion(reason_codes=["OT"], start_date="2019-11-04", end_date="2019-11-05"))
    validate(
        ExclusionRecord,
        exclusion(exclusion_type="PERM", end_date=None, end_session=None, length_sessions=None),
    )
    validate(ExclusionRecord, exclusion(end_date="2024-11-04", start_session="AM", end_session="AM"))


# --- Errors collect -------------------------------------------------------------------------------------


def test_cross_field_errors_are_reported_together() -> None:
    data = student(
        end_date="2020-01-01", former_upn=UPN, sen_provision="N", sen_needs=[{"type_code": "MLD", "rank": 1}]
    )
    assert errors(StudentRecord, data) == [
        (("end_date",), "date_order"),
        (("former_upn",), "inconsistent"),
        (("sen_needs", 0, "type_code"), "inconsistent"),
    ]


def test_messages_do_not_echo_the_value() -> None:
    with pytest.raises(ValidationError) as caught:
        validate(StudentRecord, student(upn="Q207000016049", ethnicity_code="ZZZZ"))
    assert all("Q207" not in error["msg"] and "ZZZZ" not in error["msg"] for error in caught.value.errors())
