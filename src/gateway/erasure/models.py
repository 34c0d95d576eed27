"""What erasure keeps: pending deletions, a record of every purge (counts, never personal data), warnings.

| table | one row per |
|---|---|
| `school_deletions` | a connector deletion or a deletion request: when, by whom, due when; its end |
| `purges` | a purge that ran: school, rule, scope (`school` or `pupils`), counts by table |
| `inactivity_warnings` | a school whose admins were warned that 12 months without activity end in a purge |
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base


class SchoolDeletion(Base):
    """A whole-school purge that is scheduled: the connector was deleted, or deletion was requested."""

    __tablename__ = "school_deletions"
    __table_args__ = (Index("ix_school_deletions_school", "school_id", "requested_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(32))  # `connector_deleted` or `deletion_requested`
    actor: Mapped[str] = mapped_column(String(80))
    requested_at: Mapped[datetime]
    requested_on: Mapped[date]  # the day in England the clock started
    due_on: Mapped[date]  # the purge happens by the end of this day
    cancelled_at: Mapped[datetime | None]
    cancelled_by: Mapped[str | None] = mapped_column(String(80))
    purged_at: Mapped[datetime | None]


class PurgeRecord(Base):
    """A purge that ran. What went is counted by table; nothing in it names or identifies a pupil."""

    __tablename__ = "purges"
    __table_args__ = (Index("ix_purges_school", "school_id", "purged_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(8))  # `school` or `pupils`
    purged_at: Mapped[datetime]
    pupils: Mapped[int]
    rows: Mapped[int]
    counts: Mapped[str] = mapped_column(Text)  # JSON object: table → rows deleted, tombstoned or resealed


class InactivityWarning(Base):
    """The admins were told, once per stretch of inactivity, that the school's data will be purged."""

    __tablename__ = "inactivity_warnings"

    school_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True
    )
    last_activity_on: Mapped[date]  # the stretch warned about: a later activity starts a new one
    warned_at: Mapped[datetime]
    due_on: Mapped[date]
