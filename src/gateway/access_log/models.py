"""One row per data API response: app, school, grant, resource, the field names sent and how many records.

Never record contents, never a pupil id. Append-only (nothing updates or deletes rows outside retention).
Not hash-chained like the authorisation log: a chain serialises every append for a school, and the data
API writes one row per response; rows carry the grant id, which ties them to the chained grant events.
`app_id` is kept without a foreign key, with the `client_id`, so the record outlives a deleted app.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, utcnow


class DataAccess(Base):
    __tablename__ = "data_access_log"
    __table_args__ = (
        Index("ix_data_access_log_school_time", "school_id", "occurred_at"),
        Index("ix_data_access_log_grant_time", "grant_id", "occurred_at"),
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
