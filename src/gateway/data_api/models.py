"""What the changes feed keeps: the sets of pupils and contacts an app was last shown (see `changes`).

A snapshot is content-addressed by the SHA-256 of its canonical content, per school: two grants with the
same audience share a row, and the feed's cursor carries only the digest. Snapshots hold record ids only
(pupil and contact ids, opaque MIS ids), never record contents; they go when the school is deleted, and
those older than `changes.SNAPSHOT_RETENTION` are pruned (a cursor that needs one gets a resync).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, utcnow


class AudienceSnapshot(Base):
    __tablename__ = "data_api_audience_snapshots"
    __table_args__ = (Index("ix_data_api_audience_snapshots_school_time", "school_id", "created_at"),)

    school_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True
    )
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)  # zlib of the canonical JSON
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
