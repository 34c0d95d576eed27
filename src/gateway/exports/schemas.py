"""What `/manage/v1/exports` answers."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from gateway.exports.models import Export, ExportState
from gateway.exports.service import shown_state


class ExportProgress(BaseModel):
    written: int = Field(
        description="Lines written so far (each record twice: its JSON Lines and CSV lines)."
    )
    total: int = Field(description="Lines to write, counted when the build started (0 until then).")


class ExportOut(BaseModel):
    id: uuid.UUID
    state: ExportState = Field(
        description="`queued`, `running`, `ready` (download it, once, before `expires_at`), `downloaded`, "
        "`expired` or `failed`."
    )
    progress: ExportProgress
    created_at: datetime
    started_at: datetime | None = Field(description="When a worker last started building it.")
    finished_at: datetime | None = Field(description="When it became ready, or failed.")
    expires_at: datetime | None = Field(description="Ready exports: the download must start before this.")
    downloaded_at: datetime | None
    size: int | None = Field(description="The zip's size in bytes, once ready.")
    sha256: str | None = Field(description="The zip's SHA-256 (hex), once ready: check the download with it.")
    failure: str | None = Field(
        description="Why it failed: `unreadable` (a record did not open), `damaged` (the stored copy was "
        "altered), `gave-up` (its builds kept stopping)."
    )
    download: str | None = Field(description="Where to download it, while it is ready.")

    @classmethod
    def of(cls, row: Export, now: datetime) -> ExportOut:
        state = shown_state(row, now)
        return cls(
            id=row.id,
            state=state,
            progress=ExportProgress(written=row.records_done, total=row.records_total),
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            expires_at=row.expires_at,
            downloaded_at=row.downloaded_at,
            size=row.size,
            sha256=row.sha256,
            failure=row.failure,
            download=f"/manage/v1/exports/{row.id}/download" if state is ExportState.READY else None,
        )


class ExportList(BaseModel):
    exports: list[ExportOut] = Field(description="The school's exports, newest first (at most `limit`).")
