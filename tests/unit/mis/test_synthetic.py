"""The synthetic school generator (gateway.mis.synthetic): deterministic, valid, consistent, invented."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import date, timedelta
from functools import cache
from typing import Any

import pytest

from gateway.mis import codes
from gateway.mis.identifiers import is_valid_nhs_number, is_valid_uln, is_valid_upn
from gateway.mis.records import RECORD_MODELS
from gateway.mis.synthetic import RESOURCE_ORDER, SchoolSize, SyntheticSchool, generate_school

TODAY = date(2025, 11, 20)  # a Thursday after October half-term: 8 weeks of the autumn term are past
EXAMPLE_EMAIL = re.compile(r"^[a-z0-9.]+@example\.(org|com)$")
# Ofcom's numbers for TV and radio drama: mobile, the no-area range and the city ranges.
DRAMA_PHONE = re.compile(
    r"^(07700 900\d{3}|01632 960\d{3}|01(1[3-8]|21|31|41|51|61) 496 0\d{3}|020 7946 0\d{3}|0191 498 0\d{3})$"
)


@cache
def school(seed: int = 7, students: int = 120, days: int | None = 5, today: date = TODAY) -> SyntheticSchool:
    return generate_school(seed, students=students, today=today, attendance_days=days)


def by_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {record["id"]: record for record in records}


def current(generated: SyntheticSchool) -> list[dict[str, Any]]:
    return [student for student in generated.records["students"] if "end_date" not in student]


# --- Determinism ------------------------------------------------------------------------------------------


def test_the_same_seed_gives_byte_identical_records() -> None:
    first = generate_school(11, students=80, today=TODAY, attendance_days=3)
    second = generate_school(11, students=80, today=TODAY, attendance_days=3)
    assert json.dumps(first.records) == json.dumps(second.records)
    assert first == second


def test_different_seeds_give_different_schools() -> None:
    schools = [school(seed) for seed in (1, 2, 3)]
    for field in ("name", "urn", "id"):
        assert len({generated.school[field] for generated in schools}) == 3
    assert len({(s.school["la_code"], s.school["establishment_number"]) for s in schools}) == 3
    pupils = [
        tuple(f"{p['first_name']} {p['last_name']}" for p in s.records["students"][:20]) for s in schools
    ]
    assert len(set(pupils)) == 3


def test_attendance_days_change_only_the_attendance() -> None:
    without = school(days=0)
    with_some = school(days=5)
    assert without.records["attendance_sessions"] == []
    assert with_some.records["attendance_sessions"]
    for resource in RESOURCE_ORDER:
        if not resource.startswith("attendance_"):
            assert without.records[resource] == with_some.records[resource], resource


def test_records_are_json_ready_and_in_resource_order() -> None:
    generated = school()
    assert set(RESOURCE_ORDER) == set(RECORD_MODELS)
    assert tuple(generated.records) == RESOURCE_ORDER
    assert tuple(generated.counts()) == RESOURCE_ORDER
    assert generated.records["school"] == [generated.school]
    assert json.loads(json.dumps(generated.records)) == generated.records


# --- Validity ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "days"),
    [
        (TODAY, 5),
        (date(2025, 9, 1), None),  # before the first day of term: no attendance, leavers left in July
        (date(2026, 1, 15), None),  # the whole autumn term, capped at 70 days
        (date(2028, 2, 29), 2),  # a leap day
    ],
)
def test_every_record_validates(today: date, days: int | None) -> None:
    generated = school(3, students=90, days=days, today=today)
    for resource in RESOURCE_ORDER:
        model = RECORD_MODELS[resource]
        for record in generated.records[resource]:
            model.model_validate(record, context={"today": today})


def test_ids_are_unique_and_deterministic_in_shape() -> None:
    generated = school()
    for resource, records in generated.records.items():
        ids = [record["id"] for record in records]
        assert len(ids) == len(set(ids)), resource
    assert generated.records["students"][0]["id"] == "stu-000001"
    assert generated.records["staff"][0]["id"] == "stf-000001"


def test_rejects_impossible_sizes() -> None:
    with pytest.raises(ValueError, match="students"):
        generate_school(1, students=0, today=TODAY)
    with pytest.raises(ValueError, match="attendance_days"):
        generate_school(1, students=10, today=TODAY, attendance_days=-1)


# --- Referential integrity --------------------------------------------------------------------------------


def test_every_reference_exists_and_is_pushed_first() -> None:
    generated = school()
    records = generated.records
    ids = {resource: set(by_id(records[resource])) for resource in RESOURCE_ORDER}
    position = {resource: index for index, resource in enumerate(RESOURCE_ORDER)}
    references = [
        ("student_contacts", "student_id", "students"),
        ("student_contacts", "contact_id", "contacts"),
        ("attendance_sessions", "student_id", "students"),
        ("attendance_summaries", "student_id", "students"),
        ("attendance_summaries", "academic_year_id", "academic_years"),
        ("results", "student_id", "students"),
        ("results", "assessment_id", "assessments"),
        ("results", "subject_id", "subjects"),
        ("exclusions", "student_id", "students"),
        ("groups", "subject_id", "subjects"),
        ("groups", "academic_year_id", "academic_years"),
        ("students", "registration_group_id", "groups"),
    ]
    for resource, field, target in references:
        values = {record[field] for record in records[resource] if field in record}
        assert values, (resource, field)
        assert values <= ids[target], (resource, field)
        if target != "groups":  # a pupil's registration group is pushed after the pupil
            assert position[target] < position[resource]
    for group in records["groups"]:
        assert set(group["student_ids"]) <= ids["students"]
        assert group["supervisor_staff_ids"]
        assert set(group["supervisor_staff_ids"]) <= ids["staff"]


def test_each_pupil_on_roll_has_one_registration_year_and_house_group() -> None:
    generated = school()
    groups = by_id(generated.records["groups"])
    membership: dict[str, Counter[str]] = defaultdict(Counter)
    for group in groups.values():
        for student_id in group["student_ids"]:
            membership[student_id][group["type"]] += 1
    for student in current(generated):
        assert membership[student["id"]]["registration"] == 1
        assert membership[student["id"]]["year"] == 1
        assert membership[student["id"]]["house"] == 1
        assert membership[student["id"]]["teaching"] >= 3
        form = groups[student["registration_group_id"]]
        assert form["type"] == "registration"
        assert student["id"] in form["student_ids"]
        assert form["name"].startswith(student["year_code"])


def test_teaching_groups_have_a_teacher_of_their_subject_size() -> None:
    generated = school(students=400, days=0)
    staff = by_id(generated.records["staff"])
    teaching = [group for group in generated.records["groups"] if group["type"] == "teaching"]
    assert {group["subject_id"] for group in teaching} == {s["id"] for s in generated.records["subjects"]}
    for group in teaching:
        assert all(staff[staff_id]["is_teaching_staff"] for staff_id in group["supervisor_staff_ids"])
        assert 1 <= len(group["student_ids"]) <= 30
    houses = [group for group in generated.records["groups"] if group["type"] == "house"]
    assert len(houses) == 4
    assert max(len(h["student_ids"]) for h in houses) - min(len(h["student_ids"]) for h in houses) <= 6


def test_siblings_share_contacts_and_a_house() -> None:
    generated = school(students=400, days=0)
    pupils_of: dict[str, set[str]] = defaultdict(set)
    for link in generated.records["student_contacts"]:
        pupils_of[link["contact_id"]].add(link["student_id"])
    shared = [pupils for pupils in pupils_of.values() if len(pupils) > 1]
    assert shared
    house_of = {
        student_id: group["id"]
        for group in generated.records["groups"]
        if group["type"] == "house"
        for student_id in group["student_ids"]
    }
    for pupils in shared:
        assert len({house_of[p] for p in pupils if p in house_of}) <= 1


# --- Identifiers and people -------------------------------------------------------------------------------


def test_upns_are_unique_valid_and_carry_the_school_la() -> None:
    generated = school(students=400, days=0)
    students = generated.records["students"]
    upns = [student["upn"] for student in students]
    former = [student["former_upn"] for student in students if "former_upn" in student]
    assert len(set(upns + former)) == len(upns) + len(former)
    for upn in upns + former:
        assert is_valid_upn(upn)
        assert upn[1:4] == generated.school["la_code"]


def test_other_identifiers_pass_their_checks() -> None:
    generated = school(students=400, days=0)
    students = generated.records["students"]
    ulns = [student["uln"] for student in students if "uln" in student]
    assert ulns
    assert len(ulns) == len(set(ulns))
    assert all(is_valid_uln(uln) for uln in ulns)
    assert all(int(s["year_code"]) >= 10 for s in students if "uln" in s)
    nhs = [student["nhs_number"] for student in students if "nhs_number" in student]
    assert nhs
    assert all(is_valid_nhs_number(n) and n.startswith("999") for n in nhs)
    assert all(s["nhs_number"] for s in students if s["medical_conditions"])
    assert re.fullmatch(r"9\d{5}", generated.school["urn"])
    assert re.fullmatch(r"4\d{3}", generated.school["establishment_number"])
    staff_codes = [member["staff_code"] for member in generated.records["staff"]]
    assert len(staff_codes) == len(set(staff_codes))


def test_dates_of_birth_match_the_year_group() -> None:
    generated = school()
    year_start = date(2025, 9, 1)
    for student in current(generated):
        dob = date.fromisoformat(student["dob"])
        age = year_start.year - dob.year - ((year_start.month, year_start.day) < (dob.month, dob.day))
        assert age == int(student["year_code"]) + 4  # 11 on 1 September in year 7


def test_emails_use_example_domains_and_phones_the_drama_ranges() -> None:
    generated = school(students=300, days=0)
    emails = [s["email"] for s in generated.records["students"]]
    emails += [m["work_email"] for m in generated.records["staff"]]
    emails += [e for c in generated.records["contacts"] for e in c.get("emails", [])]
    assert emails
    assert all(EXAMPLE_EMAIL.fullmatch(email) for email in emails)
    phones = [m["personal_phone"] for m in generated.records["staff"]]
    phones += [t["number"] for c in generated.records["contacts"] for t in c["telephone_numbers"]]
    assert all(c["telephone_numbers"] for c in generated.records["contacts"])
    assert all(DRAMA_PHONE.fullmatch(phone) for phone in phones)


def test_counts_scale_with_students() -> None:
    small, large = school(students=60, days=0), school(students=240, days=0)
    assert small.counts()["students"] == 60
    assert large.counts()["students"] == 240
    for resource in ("staff", "contacts", "student_contacts", "groups", "results"):
        assert large.counts()[resource] > small.counts()[resource], resource
    for generated in (small, large):
        counts = generated.counts()
        assert counts["students"] <= counts["student_contacts"] <= 2 * counts["students"]
        assert counts["school"] == 1
        assert counts["subjects"] >= 12
    year_sizes = SchoolSize(students=1000).year_sizes()
    assert sum(year_sizes.values()) == 1000
    assert year_sizes[7] == year_sizes[11] > year_sizes[12] > year_sizes[13]


# --- Consistency ------------------------------------------------------------------------------------------


def test_fsm_pupil_premium_sen_and_languages_are_consistent() -> None:
    generated = school(students=400, days=0)
    six_years_ago = TODAY.replace(year=TODAY.year - 6)
    for s in generated.records["students"]:
        periods = [
            (date.fromisoformat(p["start_date"]), date.fromisoformat(p.get("end_date", "9999-12-31")))
            for p in s["fsm_periods"]
        ]
        assert s["is_fsm"] == any(start <= TODAY <= end for start, end in periods)
        assert s["is_fsm6"] == any(end >= six_years_ago for _, end in periods)
        assert s["is_pp"] == (int(s["year_code"]) <= 11 and (s["is_fsm6"] or s["ever_in_care"]))
        assert bool(s["pp_periods"]) == s["is_pp"]
        assert (s["sen_provision"] == "N") == (not s["sen_needs"])
        assert all(n["type_code"] != "NSA" or s["sen_provision"] == "K" for n in s["sen_needs"])
        english = s["first_language_code"] in {"ENG", "ENB"}
        assert s["is_eal"] is not english
        assert ("proficiency_in_english" in s) is not english
        assert not s["in_care"] or s["ever_in_care"]


def test_leavers_left_in_the_past_and_are_in_no_group() -> None:
    generated = school(seed=5, students=600, days=None)
    leavers = [s for s in generated.records["students"] if "end_date" in s]
    assert leavers
    members = {sid for group in generated.records["groups"] for sid in group["student_ids"]}
    last_session: dict[str, str] = {}
    for session in generated.records["attendance_sessions"]:
        last_session[session["student_id"]] = max(
            session["session_date"], last_session.get(session["student_id"], "")
        )
    for leaver in leavers:
        assert date.fromisoformat(leaver["end_date"]) < TODAY
        assert leaver["enrolment_status"] in {"C", "M"}  # their registration while on roll
        assert "registration_group_id" not in leaver
        assert leaver["id"] not in members
        assert last_session.get(leaver["id"], "") <= leaver["end_date"]


def test_exclusions_are_plausible_and_marked_in_the_register() -> None:
    generated = school(seed=5, students=600, days=None)
    exclusions = generated.records["exclusions"]
    kinds = Counter(exclusion["exclusion_type"] for exclusion in exclusions)
    assert kinds["FIXD"] >= 5
    assert kinds["LNCH"] >= 1
    assert kinds["PERM"] >= 1
    students = by_id(generated.records["students"])
    excluded_sessions = {
        (s["student_id"], s["session_date"])
        for s in generated.records["attendance_sessions"]
        if s["attendance_mark"] == "E"
    }
    for exclusion in exclusions:
        assert set(exclusion["reason_codes"]) <= set(codes.EXCLUSION_REASON_CODES)
        if exclusion["exclusion_type"] == "PERM":
            assert students[exclusion["student_id"]]["end_date"] == exclusion["end_date"]
        if exclusion["exclusion_type"] != "LNCH":
            assert (exclusion["student_id"], exclusion["start_date"]) in excluded_sessions
    assert len(excluded_sessions) >= kinds["FIXD"]


# --- Attendance -------------------------------------------------------------------------------------------


def test_attendance_summaries_agree_with_the_sessions() -> None:
    generated = school(students=150, days=12)
    tallies: dict[str, Counter[str]] = defaultdict(Counter)
    for session in generated.records["attendance_sessions"]:
        mark = session["attendance_mark"]
        tally = tallies[session["student_id"]]
        if not codes.counts_as_possible_session(mark):
            continue
        tally["possible"] += 1
        category = codes.attendance_category(mark)
        if category in {codes.AttendanceCategory.PRESENT, codes.AttendanceCategory.APPROVED_EDUCATION}:
            tally["attended"] += 1
        elif category is codes.AttendanceCategory.AUTHORISED:
            tally["authorised"] += 1
        elif category is codes.AttendanceCategory.UNAUTHORISED:
            tally["unauthorised"] += 1
        tally["late"] += mark in {"L", "U"}
    summaries = generated.records["attendance_summaries"]
    assert {summary["student_id"] for summary in summaries} == set(tallies)
    for summary in summaries:
        tally = tallies[summary["student_id"]]
        assert summary["academic_year_id"] == "ay-2025"
        for field in ("possible", "attended", "late"):
            assert summary[f"{field}_sessions"] == tally[field], field
        assert summary["authorised_absence_sessions"] == tally["authorised"]
        assert summary["unauthorised_absence_sessions"] == tally["unauthorised"]


def test_sessions_fall_on_school_days_before_today_once_each() -> None:
    generated = school(days=None)
    sessions = generated.records["attendance_sessions"]
    days = sorted({date.fromisoformat(session["session_date"]) for session in sessions})
    half_term = date(2025, 10, 27)
    assert days[0] == date(2025, 9, 3)
    assert days[-1] < TODAY
    assert all(day.weekday() < 5 and not half_term <= day < half_term + timedelta(days=7) for day in days)
    keys = [(s["student_id"], s["session_date"], s["session_name"]) for s in sessions]
    assert len(keys) == len(set(keys))
    assert all(("minutes_late" in s) == (s["attendance_mark"] in {"L", "U"}) for s in sessions)
    assert not {s["attendance_mark"] for s in sessions} & set(codes.RETIRED_ATTENDANCE_CODES)
    assert all(s["attendance_mark"] != ("\\" if s["session_name"] == "AM" else "/") for s in sessions)


def test_default_attendance_is_the_autumn_term_capped_at_70_days() -> None:
    generated = school(students=12, days=None, today=date(2026, 1, 15))
    dates = {session["session_date"] for session in generated.records["attendance_sessions"]}
    assert len(dates) == 70
    assert school(students=12, days=3).records["attendance_sessions"]
    assert len({s["session_date"] for s in school(students=12, days=3).records["attendance_sessions"]}) == 3


# --- Proportions (one 1,000-pupil school) -----------------------------------------------------------------


def test_a_thousand_pupil_school_has_realistic_proportions() -> None:
    generated = school(seed=1, students=1000, days=10)
    students = generated.records["students"]
    total = len(students)

    def share(predicate: Any) -> float:
        return sum(1 for student in students if predicate(student)) / total

    assert 0.09 <= share(lambda s: s["sen_provision"] == "K") <= 0.18
    assert 0.01 <= share(lambda s: s["sen_provision"] == "E") <= 0.045
    assert 0.18 <= share(lambda s: s["is_fsm"]) <= 0.32
    assert share(lambda s: s["is_fsm"]) < share(lambda s: s["is_fsm6"]) <= 0.40
    assert 0.10 <= share(lambda s: s["is_eal"]) <= 0.26
    assert share(lambda s: s["in_care"]) < 0.015
    assert 0.002 <= share(lambda s: s["service_child"]) <= 0.025
    assert 0.06 <= share(lambda s: bool(s["medical_conditions"])) <= 0.15
    assert 0.005 <= share(lambda s: "end_date" in s) <= 0.04
    assert 0.50 <= share(lambda s: s["ethnicity_code"] in {"WBRI", "WENG", "WSCO", "WWEL"}) <= 0.75
    assert 0.40 <= share(lambda s: s["gender"] == "F") <= 0.60
    assert 70 <= generated.counts()["staff"] <= 100
    marks = Counter(session["attendance_mark"] for session in generated.records["attendance_sessions"])
    sessions = sum(marks.values())
    present = (marks["/"] + marks["\\"] + marks["L"]) / sessions
    assert 0.90 <= present <= 0.96
    assert 0.025 <= (marks["I"] + marks["M"]) / sessions <= 0.06
    assert 0.008 <= (marks["O"] + marks["N"] + marks["G"] + marks["U"]) / sessions <= 0.025
    assert 0.005 <= marks["L"] / sessions <= 0.04
