"""What an export keeps: the job (`exports`) and the built zip, sealed in chunks (`export_chunks`).

| table | one row per |
|---|---|
| `exports` | an export a school asked for: its state, progress, and, once built, the zip's size and SHA-256 |
| `export_chunks` | about 1 MiB of the zip, sealed under the school's data key (`chunks`) |

No plaintext of the zip is ever stored: each chunk is AES-256-GCM under the school's data key named by
`exports.key_id`, bound to its school, export, place and whether it is the last. Chunks go as soon as the
export is downloaded, fails or expires (`retention`); the `exports` row stays, with ids, times and counts
only. Both tables hang off `schools` (the chunks through `exports`), so deleting a school deletes them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, utcnow


class ExportState(StrEnum):
    QUEUED = "queued"  # waiting for a worker
    RUNNING = "running"  # a worker is building it (its heartbeat says it is alive)
    READY = "ready"  # built: downloadable once, for 24 hours
    DOWNLOADED = "downloaded"  # handed out; its chunks are gone
    EXPIRED = "expired"  # not downloaded within 24 hours; its chunks are gone
    FAILED = "failed"  # could not be built, or its stored copy did not open (`failure` says which)


ACTIVE_STATES = (ExportState.QUEUED.value, ExportState.RUNNING.value)


class Export(Base):
    __tablename__ = "exports"
    __table_args__ = (
        Index("ix_exports_school_created", "school_id", "created_at"),
        Index("ix_exports_state", "state"),
        # At most one export per school is waiting or being built (the service's check is the first line).
        Index(
            "uq_exports_active_school",
            "school_id",
            unique=True,
            sqlite_where=text("state IN ('queued', 'running')"),
            postgresql_where=text("state IN ('queued', 'running')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    requested_by: Mapped[str] = mapped_column(String(80))  # the audit actor who asked
    state: Mapped[str] = mapped_column(String(16), default=ExportState.QUEUED.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]  # the building worker's last sign of life
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # claims so far; guards every write of a build
    records_done: Mapped[int] = mapped_column(BigInteger, default=0)
    records_total: Mapped[int] = mapped_column(BigInteger, default=0)
    finished_at: Mapped[datetime | None]  # ready or failed
    expires_at: Mapped[datetime | None]  # 24 hours after ready
    downloaded_at: Mapped[datetime | None]
    key_id: Mapped[uuid.UUID | None]  # the school data key its chunks are sealed under
    chunk_count: Mapped[int | None] = mapped_column(Integer)
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    failure: Mapped[str | None] = mapped_column(String(40))  # a reason slug, never data


class ExportChunk(Base):
    __tablename__ = "export_chunks"

    export_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("exports.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0, 1, 2 … in the zip's byte order
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
