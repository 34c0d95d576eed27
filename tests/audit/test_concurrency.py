"""Concurrent appends for one school, from separate connections, never fork its chain (SPEC §4)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from gateway.audit.events import EventType, app
from gateway.audit.models import AuditEvent
from gateway.audit.service import ChainReport, record_event, verify
from gateway.db import migrations
from gateway.db.engine import create_engine
from gateway.schools.service import create_school
from gateway.settings import Settings
from tests.support.databases import throwaway_database

WRITERS = 20


@pytest.mark.postgres_only
async def test_twenty_parallel_appends_make_one_chain(tmp_path: Path) -> None:
    async with throwaway_database(tmp_path) as url:
        engine = create_engine(Settings(database_url=url, db_pool_size=WRITERS))
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        try:
            await migrations.upgrade(engine)
            async with sessions() as session, session.begin():
                school = await create_school(
                    session,
                    urn="820001",
                    name="Parallel Academy",
                    la_code="201",
                    establishment_number="4001",
                    phase="secondary",
                )
            ready = 0
            everyone_ready = asyncio.Event()
            go = asyncio.Event()

            async def append(n: int) -> None:
                nonlocal ready
                async with sessions() as session, session.begin():
                    await session.execute(text("SELECT 1"))  # own connection, transaction open
                    ready += 1
                    if ready == WRITERS:
                        everyone_ready.set()
                    await go.wait()
                    await record_event(
                        session,
                        school_id=school.id,
                        event_type=EventType.DATA_ACCESSED,
                        actor=app("client-1"),
                        details={"writer": n},
                    )

            writers = [asyncio.create_task(append(n)) for n in range(WRITERS)]
            await asyncio.wait_for(everyone_ready.wait(), 30)
            go.set()
            await asyncio.gather(*writers)

            async with sessions() as session:
                assert await verify(session, school.id) == [ChainReport(school.id, WRITERS, None)]
                rows = (
                    await session.execute(
                        select(AuditEvent.seq, AuditEvent.details)
                        .where(AuditEvent.school_id == school.id)
                        .order_by(AuditEvent.seq)
                    )
                ).all()
            assert [seq for seq, _ in rows] == list(range(1, WRITERS + 1))
            assert sorted(details for _, details in rows) == sorted(
                f'{{"writer":{n}}}' for n in range(WRITERS)
            )
        finally:
            await engine.dispose()
