"""What the purge job (`jobs.purge`) does to exports: a ready export past its 24 hours becomes expired, and
the chunks of every export that is expired or failed, or was downloaded over `DOWNLOAD_WINDOW` ago (a
download cut off by the client leaves them), are deleted; how many chunks is what it reports. The
`exports` rows stay: ids, times, counts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.guarded import changed_rows
from gateway.exports.models import Export, ExportChunk, ExportState

__all__ = ["DOWNLOAD_WINDOW", "purge_exports"]

DOWNLOAD_WINDOW: Final = timedelta(hours=6)  # time a download in progress has to finish


async def purge_exports(session: AsyncSession, now: datetime) -> dict[str, int]:
    await changed_rows(
        session,
        update(Export)
        .where(Export.state == ExportState.READY.value, Export.expires_at <= now)
        .values(state=ExportState.EXPIRED.value),
    )
    finished = select(Export.id).where(
        or_(
            Export.state.in_([ExportState.EXPIRED.value, ExportState.FAILED.value]),
            and_(Export.state == ExportState.DOWNLOADED.value, Export.downloaded_at <= now - DOWNLOAD_WINDOW),
        )
    )
    chunks = await changed_rows(session, delete(ExportChunk).where(ExportChunk.export_id.in_(finished)))
    return {"export_chunks": chunks}
