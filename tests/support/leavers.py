"""A small school with pupils on roll, former pupils due for erasure, one due soon and one without a date of
birth, with the groups, contacts, contact links and attendance that hang off them (synthetic)."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.keys.keyring import Keyring
from gateway.mis.identifiers import make_upn
from gateway.schools.models import School
from tests.support.data_api import write
from tests.support.records import ESTABLISHMENT, LA_CODE, group, student, students

ON_ROLL: Final = [f"stu-{index:05d}" for index in range(4)]
DUE: Final = ("old-1", "old-2")  # 25th birthdays in 2025 (old-2 born on 29 February 2000)
SOON: Final = "soon-1"  # 25th birthday on 10 January 2027
UNDATED: Final = "undated-1"  # left, with no date of birth
SHARED_CONTACT, ONLY_OLD_CONTACT, OLD_2_CONTACT = "con-shared", "con-old-1", "con-old-2"


def leaver(record_id: str, number: int, dob: str | None, left: str, start: str) -> dict[str, Any]:
    record = student(
        900 + number,
        id=record_id,
        first_name=f"Quillon{number}",
        last_name=f"Marrowby{number}",
        start_date=start,
        end_date=left,
        enrolment_status="C",
        upn=make_upn(LA_CODE, ESTABLISHMENT, "11", f"{900 + number:03d}"),
        dob=dob,
    )
    if dob is None:
        del record["dob"]
    return record


LEAVERS: Final = [
    leaver("old-1", 1, "2000-03-01", "2017-07-20", "2011-09-05"),
    leaver("old-2", 2, "2000-02-29", "2017-07-20", "2011-09-05"),
    leaver(SOON, 3, "2002-01-10", "2020-07-20", "2013-09-02"),
    leaver(UNDATED, 4, None, "2019-07-19", "2012-09-03"),
]


def contact(record_id: str, last_name: str) -> dict[str, Any]:
    return {"id": record_id, "last_name": last_name, "emails": [f"{record_id}@family.example.org"]}


def link(record_id: str, student_id: str, contact_id: str) -> dict[str, Any]:
    return {"id": record_id, "student_id": student_id, "contact_id": contact_id}


def summary(record_id: str, student_id: str) -> dict[str, Any]:
    return {
        "id": record_id,
        "student_id": student_id,
        "academic_year_id": "ay-2016",
        "possible_sessions": 380,
        "attended_sessions": 370,
        "late_sessions": 2,
        "authorised_absence_sessions": 8,
        "unauthorised_absence_sessions": 2,
    }


async def load_leavers_school(session: AsyncSession, keyring: Keyring, school: School) -> None:
    await write(session, keyring, school, "students", [*students(len(ON_ROLL)), *LEAVERS])
    await write(
        session,
        keyring,
        school,
        "groups",
        [group("reg-a", [ON_ROLL[0], *DUE]), group("reg-b", [ON_ROLL[1], SOON])],
    )
    await write(
        session,
        keyring,
        school,
        "contacts",
        [
            contact(SHARED_CONTACT, "Sharedhouse"),
            contact(ONLY_OLD_CONTACT, "Onlyold"),
            contact(OLD_2_CONTACT, "Twoold"),
        ],
    )
    await write(
        session,
        keyring,
        school,
        "student_contacts",
        [
            link("link-1", "old-1", SHARED_CONTACT),
            link("link-2", ON_ROLL[0], SHARED_CONTACT),
            link("link-3", "old-1", ONLY_OLD_CONTACT),
            link("link-4", "old-2", OLD_2_CONTACT),
        ],
    )
    await write(
        session,
        keyring,
        school,
        "attendance_summaries",
        [summary("att-1", "old-1"), summary("att-2", ON_ROLL[0])],
    )


def identifying_values() -> dict[str, list[str]]:
    """What must appear nowhere once the due former pupils are erased: names, UPN, date of birth."""
    return {
        record["id"]: [record["first_name"], record["last_name"], record["upn"], record["dob"]]
        for record in LEAVERS
        if record["id"] in DUE
    }
