"""Stored MIS records (SPEC §3.7, §3.8): ciphertext plus only the columns lookups and filters need.

Every record's content (all its fields, personal or not) is one AES-256-GCM ciphertext in `sealed`,
under the school's data key. What stays in the clear, and why:

| column | why it is clear |
|---|---|
| `school_id`, `resource`, `record_id` | the key of every read and write; record ids are opaque MIS ids |
| `key_id` | which data key opens `sealed` (rotation and shredding) |
| `student_id` | links attendance, results, exclusions and contact links to a pupil, for audience filtering |
| `year_code` | audience filtering by year group |
| `start_date`, `end_date` | leavers and date-range filtering (enrolment, groups, sessions) |
| `change_seq`, `updated_at`, `deleted_at` | the changes feed, `updated_since` and tombstones |
| `last_sync_id` | which full sync last saw the record, so `complete` can tombstone the rest |
| `group_memberships` rows | audience filtering by registration, teaching or year group |

A tombstone keeps no ciphertext: deleting a record deletes its content, not just its visibility.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, utcnow


class MisRecordRow(Base):
    __tablename__ = "mis_records"
    __table_args__ = (
        Index("ix_mis_records_changes", "school_id", "resource", "change_seq"),
        Index("ix_mis_records_student", "school_id", "student_id"),
    )

    school_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True
    )
    resource: Mapped[str] = mapped_column(String(32), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[uuid.UUID | None]
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    student_id: Mapped[str | None] = mapped_column(String(64))
    year_code: Mapped[str | None] = mapped_column(String(3))
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    change_seq: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
    last_sync_id: Mapped[uuid.UUID | None]


class GroupMembership(Base):
    __tablename__ = "group_memberships"
    __table_args__ = (Index("ix_group_memberships_member", "school_id", "member_id"),)

    school_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)  # "student" or "staff"
    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class SyncRun(Base):
    """A full sync: start, batches that mark what they saw, complete (tombstones the unseen)."""

    __tablename__ = "sync_runs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    resources: Mapped[str] = mapped_column(Text)  # space-separated resource names
    state: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    tombstoned: Mapped[int] = mapped_column(default=0)


class ConnectorBatch(Base):
    """What a batch answered, by idempotency key, so a retried batch changes nothing."""

    __tablename__ = "connector_batches"

    school_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True
    )
    idempotency_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
