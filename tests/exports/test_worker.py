"""Building exports (issue 15, item 5): the worker of `gateway serve`, a dead worker's export claimed again,
a school larger than a page, and what makes a build fail."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.base import utcnow
from gateway.db.session import Database
from gateway.exports.build import MAX_ATTEMPTS, STALE_AFTER
from gateway.exports.contents import PAGE
from gateway.exports.download import hand_out, stream
from gateway.exports.models import Export, ExportChunk
from gateway.exports.service import start_export
from gateway.exports.worker import ExportWorker
from gateway.keys.keyring import Keyring
from gateway.mis.ingest import apply_batch
from gateway.mis.models import MisRecordRow
from gateway.mis.validation import validate_batch
from gateway.settings import Settings
from tests.exports.conftest import Builder
from tests.support import records
from tests.support.consent_flow import TODAY
from tests.support.exports import check_zip
from tests.support.grants import Connected


async def downloaded(session: AsyncSession, database: Database, keyring: Keyring, export: Export) -> bytes:
    handout = await hand_out(session, export.school_id, export.id, actor="system", now=utcnow())
    await session.commit()
    return b"".join([data async for data in stream(database.sessionmaker, keyring, handout)])


async def queued(session: AsyncSession, connected: Connected) -> Export:
    export = await start_export(session, connected.grant.school_id, actor="system", now=utcnow())
    await session.commit()
    return export


async def test_a_dead_workers_export_is_claimed_again_once_its_heartbeat_is_stale(
    session: AsyncSession, test_database: Database, keyring: Keyring, loaded: Connected, build: Builder
) -> None:
    export = await queued(session, loaded)
    died_at = utcnow() - timedelta(minutes=10)
    # A worker claimed it, wrote a chunk and died.
    await session.execute(
        update(Export)
        .where(Export.id == export.id)
        .values(state="running", attempts=1, started_at=died_at, heartbeat_at=died_at)
    )
    session.add(ExportChunk(export_id=export.id, seq=0, sealed=b"half of a dead worker's zip"))
    await session.commit()

    assert await build(now=died_at + STALE_AFTER - timedelta(seconds=1)) is None  # alive, as far as we know
    assert await build(now=died_at + STALE_AFTER + timedelta(seconds=1)) == export.id
    row = await session.get(Export, export.id, populate_existing=True)
    assert row is not None
    assert (row.state, row.attempts) == ("ready", 2)
    await check_zip(await downloaded(session, test_database, keyring, row), session, keyring, row.school_id)


async def test_an_export_whose_builds_keep_dying_fails(
    session: AsyncSession, loaded: Connected, build: Builder
) -> None:
    export = await queued(session, loaded)
    long_ago = utcnow() - timedelta(hours=1)
    await session.execute(
        update(Export)
        .where(Export.id == export.id)
        .values(state="running", attempts=MAX_ATTEMPTS, heartbeat_at=long_ago)
    )
    await session.commit()
    assert await build() is None
    row = await session.get(Export, export.id, populate_existing=True)
    assert row is not None
    assert (row.state, row.failure) == ("failed", "gave-up")
    assert await queued(session, loaded)  # the school may start another


async def test_a_record_that_does_not_open_fails_the_export(
    session: AsyncSession, loaded: Connected, build: Builder
) -> None:
    export = await queued(session, loaded)
    await session.execute(
        update(MisRecordRow)
        .where(MisRecordRow.school_id == loaded.grant.school_id, MisRecordRow.record_id == "stu-00003")
        .values(sealed=b"\x00" * 64)
    )
    await session.commit()
    assert await build(chunk_bytes=256) == export.id
    row = await session.get(Export, export.id, populate_existing=True)
    assert row is not None
    assert (row.state, row.failure) == ("failed", "unreadable")
    assert await session.scalar(select(func.count()).where(ExportChunk.export_id == export.id)) == 0


async def test_a_school_larger_than_a_page_is_read_page_by_page(
    session: AsyncSession, test_database: Database, keyring: Keyring, loaded: Connected, build: Builder
) -> None:
    pupils = records.students(PAGE * 2 + 7, start=100)
    await apply_batch(
        session, keyring, loaded.party.school, validate_batch("students", pupils, [], today=TODAY)
    )
    await session.commit()
    export = await queued(session, loaded)
    await build()
    row = await session.get(Export, export.id, populate_existing=True)
    assert row is not None
    assert row.records_done == row.records_total
    assert row.chunk_count == 1
    manifest = await check_zip(
        await downloaded(session, test_database, keyring, row), session, keyring, row.school_id
    )
    assert manifest["counts"]["records"]["students"] == 12 + PAGE * 2 + 7


async def test_the_worker_builds_what_this_process_queues(
    session: AsyncSession, test_database: Database, keyring: Keyring, settings: Settings, loaded: Connected
) -> None:
    worker = ExportWorker(test_database.sessionmaker, keyring, issuer=settings.issuer, interval=60.0)
    worker.start()
    try:
        await asyncio.sleep(0.2)  # its first round finds nothing and waits
        export = await queued(session, loaded)  # the commit wakes it, well before its next poll
        await asyncio.sleep(2.0)  # the test's one connection is the worker's alone meanwhile
    finally:
        await worker.stop()
    assert await _state(test_database, export.id) == "ready"


async def _state(database: Database, export_id: uuid.UUID) -> str | None:
    async with database.sessionmaker() as session:
        return await session.scalar(select(Export.state).where(Export.id == export_id))
