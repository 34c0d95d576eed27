"""Building a queued export: claim it, write its zip sealed into `export_chunks`, mark it ready.

A worker claims the oldest queued export, or a running one whose worker stopped beating for
`STALE_AFTER` (it died), with one guarded UPDATE (on PostgreSQL after `FOR UPDATE SKIP LOCKED`, so the
workers of several processes take different exports; SQLite has one writer). The claim counts an attempt,
and every later write of the build is guarded by that count: a worker presumed dead that wakes up finds its
claim gone and stops, rolling back. After `MAX_ATTEMPTS` claims an export is failed instead.

The build runs in one session, in short transactions: each commits the chunks sealed so far with the
progress and a heartbeat (`archive.PROGRESS_EVERY` lines). Chunks are sealed under the school's active
data key (`chunks.ChunkPlace`). When the zip is closed the export becomes ready for `service.LIFETIME`,
and a `data.exported` event, by whoever asked, records its id, counts and SHA-256. A record that does not
open, or a shredded key, fails it (`failure`: `unreadable`) and its chunks go.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from gateway.audit.events import EventType
from gateway.audit.service import record_event
from gateway.db.base import utcnow
from gateway.db.guarded import changed_rows
from gateway.exports.archive import write_archive
from gateway.exports.chunks import CHUNK_BYTES, ChunkPlace
from gateway.exports.models import Export, ExportChunk, ExportState
from gateway.exports.service import LIFETIME
from gateway.keys.envelope import DecryptionFailed
from gateway.keys.keyring import Keyring, KeyShredded
from gateway.observability.logging import log_fields
from gateway.schools.models import School

__all__ = ["MAX_ATTEMPTS", "STALE_AFTER", "ClaimLost", "build_next"]

STALE_AFTER: Final = timedelta(minutes=2)  # a build beats at least every few seconds
MAX_ATTEMPTS: Final = 3

logger = logging.getLogger(__name__)


class ClaimLost(Exception):
    """Another worker has claimed this export since (this one was taken for dead): stop, write nothing."""


@dataclass(frozen=True, slots=True)
class _Claim:
    export_id: uuid.UUID
    school_id: uuid.UUID
    attempt: int
    requested_by: str


async def _claim(session: AsyncSession, now: datetime) -> _Claim | None:
    while True:
        found = (
            await session.execute(
                select(Export.id, Export.school_id, Export.attempts, Export.state, Export.requested_by)
                .where(
                    or_(
                        Export.state == ExportState.QUEUED.value,
                        and_(
                            Export.state == ExportState.RUNNING.value, Export.heartbeat_at < now - STALE_AFTER
                        ),
                    )
                )
                .order_by(Export.created_at, Export.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
        ).first()
        if found is None:
            return None
        export_id, school_id, attempts, state, requested_by = found
        still = [Export.id == export_id, Export.attempts == attempts, Export.state == state]
        if state == ExportState.RUNNING.value:
            still.append(Export.heartbeat_at < now - STALE_AFTER)
        if attempts >= MAX_ATTEMPTS:
            await changed_rows(
                session,
                update(Export)
                .where(*still)
                .values(state=ExportState.FAILED.value, finished_at=now, failure="gave-up"),
            )
            await session.execute(delete(ExportChunk).where(ExportChunk.export_id == export_id))
            continue
        claimed = await changed_rows(
            session,
            update(Export)
            .where(*still)
            .values(
                state=ExportState.RUNNING.value,
                attempts=attempts + 1,
                started_at=now,
                heartbeat_at=now,
                records_done=0,
            ),
        )
        if claimed:
            # A dead worker's chunks: this attempt writes its own from the first.
            await session.execute(delete(ExportChunk).where(ExportChunk.export_id == export_id))
            return _Claim(export_id, school_id, attempts + 1, requested_by)


class _SealedOutput:
    """The worker's `archive.Output`: seals each chunk into `export_chunks`, commits with the progress."""

    def __init__(
        self,
        session: AsyncSession,
        claim: _Claim,
        place: ChunkPlace,
        key: bytes,
        clock: Callable[[], datetime],
    ) -> None:
        self.session, self.claim, self.place, self.key, self.clock = session, claim, place, key, clock

    def mine(self) -> list[ColumnElement[bool]]:
        """The guard of every write of this build: the export is still running under this claim."""
        return [
            Export.id == self.claim.export_id,
            Export.attempts == self.claim.attempt,
            Export.state == ExportState.RUNNING.value,
        ]

    async def chunk(self, seq: int, data: bytes, *, last: bool) -> None:
        sealed = self.place.seal(self.key, seq, data, last=last)
        self.session.add(ExportChunk(export_id=self.claim.export_id, seq=seq, sealed=sealed))
        await self.session.flush()

    async def progress(self, done: int, total: int) -> None:
        beat = await changed_rows(
            self.session,
            update(Export)
            .where(*self.mine())
            .values(records_done=done, records_total=total, heartbeat_at=self.clock()),
        )
        if not beat:
            raise ClaimLost
        await self.session.commit()


async def build_next(
    sessions: async_sessionmaker[AsyncSession],
    keyring: Keyring,
    *,
    issuer: str,
    clock: Callable[[], datetime] = utcnow,
    chunk_bytes: int = CHUNK_BYTES,
) -> uuid.UUID | None:
    """Claim and build one export; its id, or None when none is waiting. Errors other than a record that
    does not open propagate, leaving the export running: it is claimed again once its heartbeat is stale."""
    async with sessions() as session:
        claim = await _claim(session, clock())
        if claim is None:
            await session.commit()
            return None
        school = await session.scalar(select(School).where(School.id == claim.school_id).with_for_update())
        assert school is not None, "an export is deleted with its school"
        key_id, key = await keyring.active_key(session, claim.school_id)
        await session.execute(update(Export).where(Export.id == claim.export_id).values(key_id=key_id))
        await session.commit()
        place = ChunkPlace(claim.school_id, claim.export_id, key_id)
        output = _SealedOutput(session, claim, place, key, clock)
        try:
            built = await write_archive(
                session,
                keyring,
                school,
                export_id=claim.export_id,
                made_at=clock(),
                issuer=issuer,
                output=output,
                chunk_bytes=chunk_bytes,
            )
        except ClaimLost:
            await session.rollback()
            logger.warning(
                "export claimed by another worker", extra=log_fields(export_id=str(claim.export_id))
            )
            return claim.export_id
        except (DecryptionFailed, KeyShredded) as exc:
            await session.rollback()
            await _fail(session, claim, clock(), "unreadable")
            logger.error(
                "export failed", extra=log_fields(export_id=str(claim.export_id), error=type(exc).__name__)
            )
            return claim.export_id
        now = clock()
        ready = await changed_rows(
            session,
            update(Export)
            .where(*output.mine())
            .values(
                state=ExportState.READY.value,
                finished_at=now,
                expires_at=now + LIFETIME,
                heartbeat_at=now,
                chunk_count=built.chunk_count,
                size=built.size,
                sha256=built.sha256,
            ),
        )
        if not ready:
            await session.rollback()
            return claim.export_id
        await record_event(
            session,
            school_id=claim.school_id,
            event_type=EventType.EXPORT,
            actor=claim.requested_by,
            details=built.event_details(claim.export_id),
            occurred_at=now,
        )
        await session.commit()
        return claim.export_id


async def _fail(session: AsyncSession, claim: _Claim, now: datetime, reason: str) -> None:
    await changed_rows(
        session,
        update(Export)
        .where(Export.id == claim.export_id, Export.attempts == claim.attempt)
        .values(state=ExportState.FAILED.value, finished_at=now, failure=reason),
    )
    await session.execute(delete(ExportChunk).where(ExportChunk.export_id == claim.export_id))
    await session.commit()
