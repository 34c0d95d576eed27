"""One row per data API response and resource: app, school, grant, the field names sent, how many records,
and which pupils the records were about.

Never record contents. Append-only (nothing updates or deletes rows outside retention). Not hash-chained
like the authorisation log: a chain serialises every append for a school, and the data API writes one row
per response; rows carry the grant id, which ties them to the chained grant events. `app_id` is kept
without a foreign key, with the `client_id`, so the record outlives a deleted app.

**Which pupils** (for subject access requests): a row names the set of pupils its records were about by
the set's digest (`pupil_set`), and the set is stored once per school (`DataAccessPupilSet`) with one row
per pupil (`DataAccessPupil`, indexed by pupil). Apps read the same pages night after night, so almost
every response names a set already stored: the cost per response is one small insert that finds the set
there, not a row per pupil. Sets hold MIS record ids only (opaque, as the MIS sends them), never names.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, utcnow


class DataAccess(Base):
    __tablename__ = "data_access_log"
    __table_args__ = (
        Index("ix_data_access_log_school_time", "school_id", "occurred_at"),
        Index("ix_data_access_log_grant_time", "grant_id", "occurred_at"),
        Index("ix_data_access_log_pupil_set", "pupil_set", "id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    app_id: Mapped[uuid.UUID]
    client_id: Mapped[str] = mapped_column(String(32))
    grant_id: Mapped[uuid.UUID]
    resource: Mapped[str] = mapped_column(String(40))
    fields: Mapped[str] = mapped_column(Text)
    record_count: Mapped[int]
    request_id: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The digest of the pupils the records were about (`DataAccessPupilSet`); None: about no pupil.
    pupil_set: Mapped[str | None] = mapped_column(String(64))


class DataAccessPupilSet(Base):
    """A set of pupils some response carried, stored once per school: its digest names it."""

    __tablename__ = "data_access_pupil_sets"

    school_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True
    )
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DataAccessPupil(Base):
    """One pupil of one stored set: "which responses carried this pupil" reads by (school, pupil)."""

    __tablename__ = "data_access_pupils"
    __table_args__ = (
        ForeignKeyConstraint(
            ["school_id", "digest"],
            ["data_access_pupil_sets.school_id", "data_access_pupil_sets.digest"],
            ondelete="CASCADE",
        ),
        Index("ix_data_access_pupils_student", "school_id", "student_id"),
    )

    school_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    student_id: Mapped[str] = mapped_column(String(64), primary_key=True)
