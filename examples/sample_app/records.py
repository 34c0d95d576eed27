"""What the sample app holds of each school: the records it read from the data API, in memory.

A real app would keep them in its own database. What matters here is that it can delete them when the
school says so (see webhooks.py): everything of a school, some fields of every record, or some pupils.
Records are kept by school, resource (the data API's record type: `students`, `attendance_summaries`…) and
`id`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Record = dict[str, Any]


class RecordStore:
    def __init__(self) -> None:
        self._schools: dict[str, dict[str, dict[str, Record]]] = {}

    def keep(
        self, school_id: str, resource: str, rows: Iterable[Mapping[str, Any]], *, replace: bool = False
    ) -> int:
        """Keep these records (by `id`; a row without one is not kept), in place of every record of the
        resource held when `replace`. Returns how many were kept."""
        held = self._schools.setdefault(school_id, {}).setdefault(resource, {})
        if replace:
            held.clear()
        kept = 0
        for row in rows:
            key = row.get("id")
            if isinstance(key, str | int) and not isinstance(key, bool):
                held[str(key)] = dict(row)
                kept += 1
        self._tidy(school_id)
        return kept

    def records(self, school_id: str, resource: str) -> list[Record]:
        return [dict(record) for record in self._schools.get(school_id, {}).get(resource, {}).values()]

    def count(self, school_id: str) -> int:
        return sum(len(records) for records in self._schools.get(school_id, {}).values())

    def forget_school(self, school_id: str) -> int:
        """Delete every record of the school; returns how many went."""
        held = self._schools.pop(school_id, {})
        return sum(len(records) for records in held.values())

    def forget_fields(self, school_id: str, fields: Mapping[str, Iterable[str]]) -> int:
        """Delete these fields (resource -> field names) from every record held of the school; when `id` is
        among them the records of that resource go whole. Returns how many records changed or went."""
        held = self._schools.get(school_id, {})
        changed = 0
        for resource, names in fields.items():
            records = held.get(resource, {})
            removed = set(names)
            if "id" in removed:
                changed += len(records)
                records.clear()
                continue
            for record in records.values():
                if removed & record.keys():
                    for name in removed:
                        record.pop(name, None)
                    changed += 1
        self._tidy(school_id)
        return changed

    def forget_students(self, school_id: str, student_ids: Iterable[str]) -> int:
        """Delete every record about these pupils: their `students` records and any other record whose
        `student_id` names one of them. Returns how many records went."""
        pupils = {str(student) for student in student_ids}
        gone = 0
        for resource, records in self._schools.get(school_id, {}).items():
            key = "id" if resource == "students" else "student_id"
            about = [rid for rid, record in records.items() if _named(record.get(key), pupils)]
            for record_id in about:
                del records[record_id]
            gone += len(about)
        self._tidy(school_id)
        return gone

    def _tidy(self, school_id: str) -> None:
        held = self._schools.get(school_id)
        if held is None:
            return
        for resource in [name for name, records in held.items() if not records]:
            del held[resource]
        if not held:
            del self._schools[school_id]


def _named(value: Any, pupils: set[str]) -> bool:
    return isinstance(value, str | int) and str(value) in pupils
