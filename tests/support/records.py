"""Small valid MIS records for tests (synthetic: invented names, generated UPNs)."""

from __future__ import annotations

from typing import Any

from gateway.mis.identifiers import make_upn

LA_CODE = "201"
ESTABLISHMENT = "4001"
FIRST_NAMES = ("Amara", "Bryn", "Caelan", "Delphine", "Eshan", "Fenna", "Gideon", "Halima", "Ivo", "Juno")
LAST_NAMES = ("Ashdown", "Brightwell", "Corrow", "Dunmere", "Eskdale", "Fairlow", "Greaves", "Holloway")


def student(index: int, **changes: Any) -> dict[str, Any]:
    record = {
        "id": f"stu-{index:05d}",
        "first_name": FIRST_NAMES[index % len(FIRST_NAMES)],
        "last_name": LAST_NAMES[index % len(LAST_NAMES)] + f"{index:03d}",
        "year_code": str(7 + index % 5),
        "start_date": "2024-09-02",
        "enrolment_status": "C",
        "upn": make_upn(LA_CODE, ESTABLISHMENT, "19", f"{index % 1000:03d}"),
        "dob": f"{2013 - index % 5}-0{1 + index % 9}-1{index % 10}",
        "gender": "F" if index % 2 else "M",
    }
    record.update(changes)
    return record


def students(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [student(i) for i in range(start, start + count)]


def school_record(urn: str, **changes: Any) -> dict[str, Any]:
    record = {
        "id": "school",
        "urn": urn,
        "name": "Synthetic Vale Academy",
        "la_code": LA_CODE,
        "establishment_number": ESTABLISHMENT,
        "phase": "SS",
    }
    record.update(changes)
    return record


def group(group_id: str, student_ids: list[str], **changes: Any) -> dict[str, Any]:
    record = {"id": group_id, "type": "registration", "name": group_id.upper(), "student_ids": student_ids}
    record.update(changes)
    return record
