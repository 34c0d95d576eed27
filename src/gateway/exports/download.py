"""Handing a ready export out, once (SPEC §3.8).

`hand_out` takes the export with one guarded UPDATE (ready, not expired → downloaded) and records an
`export.downloaded` event in the same transaction: of two requests racing, one gets it, and the log says
who. `stream` then opens the chunks one by one, each in a short transaction of its own, checking each
against its place (`chunks.ChunkPlace`) and the whole against the zip's SHA-256 before the last byte goes:
a chunk altered, moved, swapped or missing, or a zip cut short, stops the stream before its end (with
`Content-Length` set, the client sees a broken download, never a complete-looking one), and the export
is marked failed (`failure`: `damaged`), not downloaded. After the last chunk the chunks are deleted.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.audit.events import EventType
from gateway.audit.service import record_event
from gateway.db.guarded import changed_rows
from gateway.exports.chunks import ChunkPlace
from gateway.exports.models import Export, ExportChunk, ExportState
from gateway.exports.service import ExportGone, ExportNotReady, find_export, shown_state
from gateway.keys.envelope import DecryptionFailed
from gateway.keys.keyring import Keyring, KeyShredded
from gateway.observability.logging import log_fields

__all__ = ["ExportDamaged", "Handout", "hand_out", "stream"]

logger = logging.getLogger(__name__)


class ExportDamaged(Exception):
    """A stored chunk did not open, or the zip it makes is not the one built: the download is cut off."""


@dataclass(frozen=True, slots=True)
class Handout:
    """What streaming a handed-out export needs."""

    export_id: uuid.UUID
    school_id: uuid.UUID
    key_id: uuid.UUID
    chunk_count: int
    size: int
    sha256: str

    @property
    def filename(self) -> str:
        return f"export-{self.school_id}-{self.export_id}.zip"


async def hand_out(
    session: AsyncSession, school_id: uuid.UUID, export_id: uuid.UUID, *, actor: str, now: datetime
) -> Handout:
    """Take one of the school's ready exports for download (flushes; the caller commits).

    `ExportNotFound` (404), `ExportNotReady` (409: queued, running or failed) or `ExportGone` (410: already
    downloaded, or expired 24 hours after it was ready).
    """
    row = await find_export(session, school_id, export_id)
    state = shown_state(row, now)
    if state in (ExportState.DOWNLOADED, ExportState.EXPIRED):
        raise ExportGone(state)
    if state is not ExportState.READY:
        raise ExportNotReady(state)
    taken = await changed_rows(
        session,
        update(Export)
        .where(
            Export.id == export_id,
            Export.school_id == school_id,
            Export.state == ExportState.READY.value,
            Export.expires_at > now,
        )
        .values(state=ExportState.DOWNLOADED.value, downloaded_at=now),
    )
    if not taken:  # another request took it first
        raise ExportGone(ExportState.DOWNLOADED)
    assert row.key_id is not None
    assert row.chunk_count is not None
    assert row.size is not None
    assert row.sha256 is not None
    await record_event(
        session,
        school_id=school_id,
        event_type=EventType.EXPORT_DOWNLOADED,
        actor=actor,
        details={"export_id": str(export_id), "size": row.size, "sha256": row.sha256},
        occurred_at=now,
    )
    return Handout(export_id, school_id, row.key_id, row.chunk_count, row.size, row.sha256)


async def stream(
    sessions: async_sessionmaker[AsyncSession], keyring: Keyring, handout: Handout
) -> AsyncIterator[bytes]:
    """The zip's bytes, chunk by chunk (see the module's docstring); `ExportDamaged` before the end if the
    stored copy is not the one built."""
    place = ChunkPlace(handout.school_id, handout.export_id, handout.key_id)
    digest = hashlib.sha256()
    last = handout.chunk_count - 1
    try:
        key: bytes | None = None
        for seq in range(handout.chunk_count):
            async with sessions() as session:
                if key is None:
                    key = await keyring.key(session, handout.school_id, handout.key_id)
                sealed = await session.scalar(
                    select(ExportChunk.sealed).where(
                        ExportChunk.export_id == handout.export_id, ExportChunk.seq == seq
                    )
                )
                await session.commit()
            if sealed is None:
                raise ExportDamaged(f"chunk {seq} is missing")
            data = place.open(key, seq, sealed, last=seq == last)
            digest.update(data)
            if seq == last and digest.hexdigest() != handout.sha256:
                raise ExportDamaged("the zip's SHA-256 is not the one built")
            yield data
        if handout.chunk_count < 1:
            raise ExportDamaged("no chunks")
    except (DecryptionFailed, KeyShredded, ExportDamaged) as exc:
        async with sessions.begin() as session:
            await changed_rows(
                session,
                update(Export)
                .where(Export.id == handout.export_id, Export.state == ExportState.DOWNLOADED.value)
                .values(state=ExportState.FAILED.value, downloaded_at=None, failure="damaged"),
            )
            await session.execute(delete(ExportChunk).where(ExportChunk.export_id == handout.export_id))
        logger.error(
            "export damaged", extra=log_fields(export_id=str(handout.export_id), error=type(exc).__name__)
        )
        raise ExportDamaged("the stored export does not open: it was altered") from None
    async with sessions.begin() as session:
        await session.execute(delete(ExportChunk).where(ExportChunk.export_id == handout.export_id))
