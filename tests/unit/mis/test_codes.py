"""DfE code sets and their lookups (gateway.mis.codes). Pure: no fixtures."""

from __future__ import annotations

import re
from datetime import date

import pytest

from gateway.mis import codes
from gateway.mis.codes import AttendanceCategory, EthnicityGroup

CUTOFF = codes.ATTENDANCE_CODES_2024_FROM
BEFORE = date(2024, 8, 18)


# --- Shapes of the sets ---------------------------------------------------------------------------------


def test_year_codes_are_exactly_the_national_curriculum_years() -> None:
    assert {"N1", "N2", "R", "X", *(str(n) for n in range(1, 15))} == codes.YEAR_CODES


@pytest.mark.parametrize("code", ["0", "15", "E1", "E2", "Y7", "r", "", "N3"])
def test_year_codes_reject(code: str) -> None:
    assert code not in codes.YEAR_CODES


def test_simple_code_sets() -> None:
    assert set(codes.ENROLMENT_STATUS_CODES) == {"C", "M", "S", "G"}
    assert set(codes.GENDER_CODES) == {"M", "F", "U"}
    assert set(codes.PROFICIENCY_IN_ENGLISH_CODES) == {"A", "B", "C", "D", "E", "N"}
    assert set(codes.SEN_PROVISION_CODES) == {"E", "K", "N"}
    assert "S" in codes.RETIRED_SEN_PROVISION_CODES
    assert set(codes.EXCLUSION_TYPE_CODES) == {"PERM", "FIXD", "LNCH"}
    assert {"AM", "PM"} == codes.SESSION_NAMES
    assert set(codes.SCHOOL_PHASE_CODES) == {"NS", "PS", "MP", "MS", "SS", "AT", "SP", "PR"}


def test_sen_need_types_include_the_census_list() -> None:
    census = {"SPLD", "MLD", "SLD", "PMLD", "SEMH", "SLCN", "HI", "VI", "MSI", "PD", "ASD", "OTH", "NSA"}
    assert census <= set(codes.SEN_NEED_TYPE_CODES)


@pytest.mark.parametrize(
    "mapping",
    [
        codes.ETHNICITY_MAIN_CODES,
        codes.ETHNICITY_EXTENDED_CODES,
        codes.LANGUAGE_CODES,
        codes.ATTENDANCE_CODES,
        codes.EXCLUSION_REASON_CODES,
        codes.SEN_NEED_TYPE_CODES,
    ],
)
def test_code_tables_are_read_only(mapping: object) -> None:
    with pytest.raises(TypeError):
        mapping["NEW"] = "x"  # type: ignore[index]


# --- Ethnicity ------------------------------------------------------------------------------------------


def test_ethnicity_main_codes() -> None:
    assert len(codes.ETHNICITY_MAIN_CODES) == 20
    assert all(re.fullmatch(r"[A-Z]{4}", code) for code in codes.ETHNICITY_CODES)


def test_every_extended_code_maps_to_a_main_code_and_none_is_both() -> None:
    assert set(codes.ETHNICITY_EXTENDED_CODES.values()) <= set(codes.ETHNICITY_MAIN_CODES)
    assert not set(codes.ETHNICITY_EXTENDED_CODES) & set(codes.ETHNICITY_MAIN_CODES)


def test_every_main_code_has_a_group() -> None:
    assert all(codes.ethnicity_group(code) is not None for code in codes.ETHNICITY_MAIN_CODES)


@pytest.mark.parametrize(
    ("code", "main", "group"),
    [
        ("WBRI", "WBRI", EthnicityGroup.WHITE),
        ("WENG", "WBRI", EthnicityGroup.WHITE),
        ("WSCO", "WBRI", EthnicityGroup.WHITE),
        ("WWEL", "WBRI", EthnicityGroup.WHITE),
        ("WNIR", "WBRI", EthnicityGroup.WHITE),
        ("WIRT", "WIRT", EthnicityGroup.WHITE),
        ("WOTW", "WOTH", EthnicityGroup.WHITE),
        ("WPOR", "WOTH", EthnicityGroup.WHITE),
        ("WALB", "WOTH", EthnicityGroup.WHITE),
        ("WTUR", "WOTH", EthnicityGroup.WHITE),
        ("WGRE", "WOTH", EthnicityGroup.WHITE),
        ("WEEU", "WOTH", EthnicityGroup.WHITE),
        ("WROG", "WROM", EthnicityGroup.WHITE),
        ("MWBC", "MWBC", EthnicityGroup.MIXED),
        ("MWAP", "MWAS", EthnicityGroup.MIXED),
        ("MOTM", "MOTH", EthnicityGroup.MIXED),
        ("AIND", "AIND", EthnicityGroup.ASIAN),
        ("AMPK", "APKN", EthnicityGroup.ASIAN),
        ("ASLT", "AOTH", EthnicityGroup.ASIAN),
        ("BCRB", "BCRB", EthnicityGroup.BLACK),
        ("BSOM", "BAFR", EthnicityGroup.BLACK),
        ("BNAM", "BOTH", EthnicityGroup.BLACK),
        ("CHNE", "CHNE", EthnicityGroup.CHINESE),
        ("CHKC", "CHNE", EthnicityGroup.CHINESE),
        ("OOTH", "OOTH", EthnicityGroup.ANY_OTHER),
        ("OKRD", "OOTH", EthnicityGroup.ANY_OTHER),
        ("REFU", "REFU", EthnicityGroup.UNCLASSIFIED),
        ("NOBT", "NOBT", EthnicityGroup.UNCLASSIFIED),
    ],
)
def test_ethnicity_lookups(code: str, main: str, group: EthnicityGroup) -> None:
    assert code in codes.ETHNICITY_CODES
    assert codes.ethnicity_main_code(code) == main
    assert codes.ethnicity_group(code) is group


@pytest.mark.parametrize("code", ["WPOL", "WBRN", "wbri", "WBR", "XXXX", "", "White"])
def test_unknown_ethnicity_codes(code: str) -> None:
    assert code not in codes.ETHNICITY_CODES
    assert codes.ethnicity_main_code(code) is None
    assert codes.ethnicity_group(code) is None


def test_ethnicity_group_values_are_the_published_labels() -> None:
    assert [group.value for group in EthnicityGroup] == [
        "White",
        "Mixed",
        "Asian",
        "Black",
        "Chinese",
        "Any other",
        "Unclassified",
    ]


# --- Language -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "ENG",
        "ENB",
        "OTH",
        "OTB",
        "NOT",
        "REF",
        "POL",
        "URD",
        "PNJ",
        "PNJM",
        "BNG",
        "BNGS",
        "GUJ",
        "ARA",
        "SOM",
        "FRN",
        "SPA",
        "POR",
        "RMN",
        "LIT",
        "TUR",
        "CHI",
        "CHIC",
        "CHIM",
        "UKR",
        "TGR",
        "BSL",
        "CYM",
    ],
)
def test_language_codes_accept(code: str) -> None:
    assert codes.is_language_code(code)


@pytest.mark.parametrize("code", ["RUM", "YUE", "CMN", "EN", "pol", "", "ZZZ", "ENGL"])
def test_language_codes_reject(code: str) -> None:
    assert not codes.is_language_code(code)


def test_language_table_is_large_and_well_formed() -> None:
    specific = set(codes.LANGUAGE_CODES) - set(codes.FIRST_LANGUAGE_GENERIC_CODES)
    assert len(specific) >= 250
    assert all(re.fullmatch(r"[A-Z]{3,4}", code) for code in codes.LANGUAGE_CODES)
    assert all(name and name == name.strip() for name in codes.LANGUAGE_CODES.values())
    assert codes.LANGUAGE_CODES["PNJM"] == "Panjabi (Mirpuri)"


@pytest.mark.parametrize(
    ("code", "english"),
    [
        ("ENG", True),
        ("ENB", True),
        ("OTH", False),
        ("OTB", False),
        ("POL", False),
        ("BSL", False),
        ("NOT", None),
        ("REF", None),
        ("XXX", None),
    ],
)
def test_is_english_language_code(code: str, english: bool | None) -> None:
    assert codes.is_english_language_code(code) is english


# --- SEN ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("need", "provision", "allowed"),
    [
        ("ASD", "E", True),
        ("ASD", "K", True),
        ("NSA", "K", True),
        ("NSA", "E", False),
        ("SEMH", "N", False),
        ("NSA", "N", False),
    ],
)
def test_sen_need_allowed_with_provision(need: str, provision: str, allowed: bool) -> None:
    assert codes.sen_need_allowed_with_provision(need, provision) is allowed


# --- Attendance -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("/", AttendanceCategory.PRESENT),
        ("\\", AttendanceCategory.PRESENT),
        ("L", AttendanceCategory.PRESENT),
        ("K", AttendanceCategory.APPROVED_EDUCATION),
        ("V", AttendanceCategory.APPROVED_EDUCATION),
        ("P", AttendanceCategory.APPROVED_EDUCATION),
        ("W", AttendanceCategory.APPROVED_EDUCATION),
        ("B", AttendanceCategory.APPROVED_EDUCATION),
        ("D", AttendanceCategory.APPROVED_EDUCATION),
        ("C1", AttendanceCategory.AUTHORISED),
        ("C2", AttendanceCategory.AUTHORISED),
        ("C", AttendanceCategory.AUTHORISED),
        ("M", AttendanceCategory.AUTHORISED),
        ("J1", AttendanceCategory.AUTHORISED),
        ("S", AttendanceCategory.AUTHORISED),
        ("T", AttendanceCategory.AUTHORISED),
        ("R", AttendanceCategory.AUTHORISED),
        ("I", AttendanceCategory.AUTHORISED),
        ("E", AttendanceCategory.AUTHORISED),
        ("G", AttendanceCategory.UNAUTHORISED),
        ("N", AttendanceCategory.UNAUTHORISED),
        ("O", AttendanceCategory.UNAUTHORISED),
        ("U", AttendanceCategory.UNAUTHORISED),
        ("X", AttendanceCategory.NOT_POSSIBLE),
        ("Q", AttendanceCategory.NOT_POSSIBLE),
        ("Y1", AttendanceCategory.NOT_POSSIBLE),
        ("Y7", AttendanceCategory.NOT_POSSIBLE),
        ("Z", AttendanceCategory.NOT_POSSIBLE),
        ("#", AttendanceCategory.NOT_POSSIBLE),
        ("H", AttendanceCategory.AUTHORISED),
        ("J", AttendanceCategory.APPROVED_EDUCATION),
        ("Y", AttendanceCategory.NOT_POSSIBLE),
    ],
)
def test_attendance_category(code: str, category: AttendanceCategory) -> None:
    assert codes.attendance_category(code) is category


@pytest.mark.parametrize("code", ["", "A", "Y8", "C3", "l", "//"])
def test_attendance_category_unknown(code: str) -> None:
    assert codes.attendance_category(code) is None


def test_current_code_set_has_all_2024_codes() -> None:
    assert len(codes.CURRENT_ATTENDANCE_CODES) == 34
    assert not set(codes.CURRENT_ATTENDANCE_CODES) & set(codes.RETIRED_ATTENDANCE_CODES)


@pytest.mark.parametrize("code", ["H", "F", "J", "Y"])
def test_retired_codes_only_before_19_august_2024(code: str) -> None:
    assert codes.is_attendance_code_valid_on(code, BEFORE)
    assert not codes.is_attendance_code_valid_on(code, CUTOFF)
    assert not codes.is_attendance_code_valid_on(code, date(2025, 1, 6))


@pytest.mark.parametrize("code", ["K", "C1", "C2", "J1", "Q", "Y1", "Y4", "Y7"])
def test_new_codes_only_from_19_august_2024(code: str) -> None:
    assert not codes.is_attendance_code_valid_on(code, BEFORE)
    assert codes.is_attendance_code_valid_on(code, CUTOFF)


@pytest.mark.parametrize("code", ["/", "\\", "L", "I", "M", "O", "X", "Z", "#", "D", "B"])
def test_unchanged_codes_valid_either_side(code: str) -> None:
    assert codes.is_attendance_code_valid_on(code, BEFORE)
    assert codes.is_attendance_code_valid_on(code, CUTOFF)


@pytest.mark.parametrize(
    ("code", "counts"),
    [
        ("/", True),
        ("L", True),
        ("I", True),
        ("O", True),
        ("B", True),
        ("D", False),
        ("X", False),
        ("Y2", False),
        ("#", False),
        ("Z", False),
        ("?", False),
    ],
)
def test_counts_as_possible_session(code: str, counts: bool) -> None:
    assert codes.counts_as_possible_session(code) is counts


# --- Exclusions -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    ["PP", "PA", "VP", "VA", "OW", "BU", "RA", "LG", "DS", "SM", "DA", "DM", "TH", "DB", "MT", "PH", "VR"],
)
def test_exclusion_reasons_accept(code: str) -> None:
    assert codes.is_exclusion_reason_valid_on(code, date(2025, 1, 6))
    assert codes.is_exclusion_reason_valid_on(code, date(2019, 1, 7))


@pytest.mark.parametrize("code", ["PA1", "VA2", "WP", "XX", "", "pp"])
def test_exclusion_reasons_reject(code: str) -> None:
    assert not codes.is_exclusion_reason_valid_on(code, date(2025, 1, 6))


def test_other_reason_only_for_historic_exclusions() -> None:
    assert codes.is_exclusion_reason_valid_on("OT", date(2019, 11, 4))
    assert not codes.is_exclusion_reason_valid_on("OT", codes.EXCLUSION_REASON_OT_WITHDRAWN_FROM)


def test_suspension_alias() -> None:
    assert codes.EXCLUSION_TYPE_ALIASES["SUSP"] == "FIXD"
