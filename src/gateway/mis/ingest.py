"""Write MIS records (SPEC §3.7): one atomic batch of upserts and deletes, sealed under the school's key.

The connector API and the synthetic school generator both write through `apply_batch`, so demo data
takes exactly the path real data does. Services flush; the caller's transaction commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.base import utcnow
from gateway.errors import InvalidInput
from gateway.keys.envelope import record_context, seal
from gateway.keys.keyring import Keyring
from gateway.mis.records import GroupRecord, MisRecord, SchoolRecord
from gateway.mis.repository import RecordRepository, RowValues, UpsertBatch
from gateway.mis.validation import ValidBatch
from gateway.schools.models import School

# Where a record's date for range filtering lives when it is not `start_date`.
_DATE_FIELDS = {"attendance_sessions": "session_date", "results": "result_date"}


@dataclass(frozen=True, slots=True)
class BatchResult:
    resource: str
    upserted: int
    deleted: int
    not_found: int
    last_change_seq: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "upserted": self.upserted,
            "deleted": self.deleted,
            "not_found": self.not_found,
            "last_change_seq": self.last_change_seq,
        }


def clear_columns(
    resource: str, record: BaseModel
) -> tuple[str | None, str | None, date | None, date | None]:
    """The lookup columns that stay unencrypted (see `gateway.mis.models`): student, year, start, end."""
    values = record.__dict__
    student_id = values["id"] if resource == "students" else values.get("student_id")
    start = values.get(_DATE_FIELDS.get(resource, "start_date"))
    end = values.get("end_date")
    return (
        student_id,
        values.get("year_code"),
        start if isinstance(start, date) else None,
        end if isinstance(end, date) else None,
    )


async def apply_batch(
    session: AsyncSession,
    keyring: Keyring,
    school: School,
    batch: ValidBatch,
    *,
    sync_id: uuid.UUID | None = None,
) -> BatchResult:
    if batch.resource == "school":
        _check_school_identity(school, batch.upserts)
    repository = RecordRepository(session, school.id)
    count = len(batch.upserts) + len(batch.deletes)
    if count == 0:
        return BatchResult(batch.resource, 0, 0, 0, None)
    first_seq = await repository.allocate_change_seqs(count)
    key_id, key = await keyring.active_key(session, school.id)
    now = utcnow()
    school_ref, key_ref = str(school.id), str(key_id)
    rows: list[RowValues] = []
    for record in batch.upserts:
        record_id = str(record.__dict__["id"])
        sealed = seal(
            key,
            record.model_dump_json(exclude_none=True).encode(),
            record_context(school_ref, batch.resource, record_id, key_ref),
        )
        rows.append((record_id, sealed, *clear_columns(batch.resource, record)))
    await repository.upsert(UpsertBatch(batch.resource, key_id, first_seq, now, sync_id, rows))
    if batch.resource == "groups":
        await repository.replace_memberships(_memberships(batch.upserts))
    deleted = await repository.tombstone(batch.resource, batch.deletes, first_seq + len(batch.upserts))
    if batch.resource == "groups" and deleted:
        await repository.replace_memberships({group_id: [] for group_id in deleted})
    return BatchResult(
        batch.resource,
        upserted=len(batch.upserts),
        deleted=len(deleted),
        not_found=len(batch.deletes) - len(deleted),
        last_change_seq=first_seq + count - 1,
    )


def _memberships(groups: list[MisRecord]) -> dict[str, list[tuple[str, str]]]:
    result: dict[str, list[tuple[str, str]]] = {}
    for group in groups:
        assert isinstance(group, GroupRecord)
        members = [("student", s) for s in group.student_ids] + [
            ("staff", s) for s in group.supervisor_staff_ids
        ]
        result[group.id] = members
    return result


def _check_school_identity(school: School, records: list[MisRecord]) -> None:
    """A connector may only describe its own school: the URN must match."""
    for index, record in enumerate(records):
        assert isinstance(record, SchoolRecord)
        if record.urn != school.urn:
            raise InvalidInput(
                "The school record describes a different school.",
                errors=[{"detail": "must be this school's URN", "pointer": f"#/upsert/{index}/urn"}],
            )
