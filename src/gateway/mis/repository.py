"""All SQL on stored MIS records, scoped to one school (STYLE: repositories are built with school_id)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, Uuid, and_, bindparam, delete, func, insert, or_, select, text, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.base import UTCDateTime, utcnow
from gateway.mis.models import GroupMembership, MisRecordRow
from gateway.schools.models import School

RECORDS = cast(Table, MisRecordRow.__table__)
ROW_COLUMNS = ("record_id", "sealed", "student_id", "year_code", "start_date", "end_date")
RowValues = tuple[str, bytes, str | None, str | None, date | None, date | None]

_PG_UPSERT = text(
    """
    INSERT INTO mis_records (school_id, resource, record_id, key_id, sealed, student_id, year_code,
                             start_date, end_date, change_seq, updated_at, deleted_at, last_sync_id)
    SELECT :school_id, :resource, r.record_id, :key_id, r.sealed, r.student_id, r.year_code,
           r.start_date, r.end_date, :first_seq + r.ord - 1, :updated_at, NULL, :last_sync_id
    FROM unnest(CAST(:record_ids AS text[]), CAST(:sealeds AS bytea[]), CAST(:student_ids AS text[]),
                CAST(:year_codes AS text[]), CAST(:start_dates AS date[]), CAST(:end_dates AS date[]))
         WITH ORDINALITY AS r(record_id, sealed, student_id, year_code, start_date, end_date, ord)
    ON CONFLICT (school_id, resource, record_id) DO UPDATE SET
        key_id = excluded.key_id, sealed = excluded.sealed, student_id = excluded.student_id,
        year_code = excluded.year_code, start_date = excluded.start_date, end_date = excluded.end_date,
        change_seq = excluded.change_seq, updated_at = excluded.updated_at, deleted_at = NULL,
        last_sync_id = excluded.last_sync_id
    """
).bindparams(
    bindparam("school_id", type_=Uuid()),
    bindparam("key_id", type_=Uuid()),
    bindparam("last_sync_id", type_=Uuid()),
    bindparam("updated_at", type_=UTCDateTime()),
)


@dataclass(frozen=True, slots=True)
class UpsertBatch:
    """Records of one resource sealed under one key, taking consecutive change numbers from `first_seq`."""

    resource: str
    key_id: uuid.UUID
    first_seq: int
    updated_at: datetime
    last_sync_id: uuid.UUID | None
    rows: list[RowValues]

    def shared_values(self, school_id: uuid.UUID) -> dict[str, Any]:
        return {
            "school_id": school_id,
            "resource": self.resource,
            "key_id": self.key_id,
            "updated_at": self.updated_at,
            "deleted_at": None,
            "last_sync_id": self.last_sync_id,
        }


MEMBERSHIPS = cast(Table, GroupMembership.__table__)
UPSERT_COLUMNS = (
    "key_id",
    "sealed",
    "student_id",
    "year_code",
    "start_date",
    "end_date",
    "change_seq",
    "updated_at",
    "deleted_at",
    "last_sync_id",
)


class RecordRepository:
    def __init__(self, session: AsyncSession, school_id: uuid.UUID) -> None:
        self.session = session
        self.school_id = school_id

    async def allocate_change_seqs(self, count: int) -> int:
        """Reserve `count` consecutive change numbers; returns the first. Locks the school row."""
        last = await self.session.scalar(
            update(School)
            .where(School.id == self.school_id)
            .values(change_seq=School.change_seq + count)
            .returning(School.change_seq)
        )
        assert last is not None, "school vanished mid-transaction"
        return int(last) - count + 1

    async def upsert(self, batch: UpsertBatch) -> None:
        """Insert or replace records; on PostgreSQL one `unnest` statement for the whole batch."""
        if not batch.rows:
            return
        if (await self.session.connection()).dialect.name == "postgresql":
            await self._upsert_postgresql(batch)
            return
        statement = sqlite.insert(RECORDS)
        statement = statement.on_conflict_do_update(
            index_elements=["school_id", "resource", "record_id"],
            set_={column: getattr(statement.excluded, column) for column in UPSERT_COLUMNS},
        )
        shared = batch.shared_values(self.school_id)
        await self.session.execute(
            statement,
            [
                {**shared, **dict(zip(ROW_COLUMNS, row, strict=True)), "change_seq": batch.first_seq + offset}
                for offset, row in enumerate(batch.rows)
            ],
        )

    async def _upsert_postgresql(self, batch: UpsertBatch) -> None:
        # Row-by-row executemany spends most of its time in per-row round trips and parameter handling;
        # arrays of the varying columns make it one statement. Constants are bound once.
        columns = list(zip(*batch.rows, strict=True))
        await self.session.execute(
            _PG_UPSERT,
            {
                **batch.shared_values(self.school_id),
                "first_seq": batch.first_seq,
                **{f"{name}s": list(values) for name, values in zip(ROW_COLUMNS, columns, strict=True)},
            },
        )

    async def tombstone(self, resource: str, record_ids: Sequence[str], first_seq: int) -> list[str]:
        """Delete the content of live records; returns the ids that existed."""
        live = await self.live_ids(resource, record_ids)
        if not live:
            return []
        now = utcnow()
        statement = (
            update(RECORDS)
            .where(
                RECORDS.c.school_id == self.school_id,
                RECORDS.c.resource == resource,
                RECORDS.c.record_id == bindparam("rid"),
            )
            .values(sealed=None, key_id=None, deleted_at=now, updated_at=now, change_seq=bindparam("seq"))
        )
        await self.session.execute(
            statement, [{"rid": rid, "seq": first_seq + i} for i, rid in enumerate(live)]
        )
        return live

    async def live_ids(self, resource: str, record_ids: Iterable[str]) -> list[str]:
        wanted = list(record_ids)
        found: list[str] = []
        for start in range(0, len(wanted), 900):  # stay under SQLite's bound-parameter limit
            chunk = wanted[start : start + 900]
            found.extend(
                await self.session.scalars(
                    select(MisRecordRow.record_id).where(
                        MisRecordRow.school_id == self.school_id,
                        MisRecordRow.resource == resource,
                        MisRecordRow.record_id.in_(chunk),
                        MisRecordRow.deleted_at.is_(None),
                    )
                )
            )
        order = {rid: i for i, rid in enumerate(wanted)}
        return sorted(found, key=order.__getitem__)

    async def unseen_ids(self, resource: str, sync_id: uuid.UUID) -> list[str]:
        rows = await self.session.scalars(
            select(MisRecordRow.record_id)
            .where(
                MisRecordRow.school_id == self.school_id,
                MisRecordRow.resource == resource,
                MisRecordRow.deleted_at.is_(None),
                or_(MisRecordRow.last_sync_id.is_(None), MisRecordRow.last_sync_id != sync_id),
            )
            .order_by(MisRecordRow.record_id)
        )
        return list(rows)

    async def replace_memberships(self, memberships: dict[str, list[tuple[str, str]]]) -> None:
        """Set each group's members (role, member id), replacing what it had."""
        if not memberships:
            return
        group_ids = list(memberships)
        for start in range(0, len(group_ids), 900):
            await self.session.execute(
                delete(GroupMembership).where(
                    GroupMembership.school_id == self.school_id,
                    GroupMembership.group_id.in_(group_ids[start : start + 900]),
                )
            )
        rows = [
            {"school_id": self.school_id, "group_id": group_id, "role": role, "member_id": member_id}
            for group_id, members in memberships.items()
            for role, member_id in dict.fromkeys(members)
        ]
        if rows:
            await self.session.execute(insert(MEMBERSHIPS), rows)

    async def counts(self) -> list[tuple[str, int, int, datetime | None]]:
        """Per resource: live records, tombstones, last update."""
        result = await self.session.execute(
            select(
                MisRecordRow.resource,
                func.count().filter(MisRecordRow.deleted_at.is_(None)),
                func.count().filter(MisRecordRow.deleted_at.is_not(None)),
                func.max(MisRecordRow.updated_at),
            )
            .where(MisRecordRow.school_id == self.school_id)
            .group_by(MisRecordRow.resource)
            .order_by(MisRecordRow.resource)
        )
        return [(row[0], int(row[1]), int(row[2]), row[3]) for row in result.all()]

    async def sealed_record(self, resource: str, record_id: str) -> MisRecordRow | None:
        return await self.session.scalar(
            select(MisRecordRow).where(
                and_(
                    MisRecordRow.school_id == self.school_id,
                    MisRecordRow.resource == resource,
                    MisRecordRow.record_id == record_id,
                )
            )
        )
