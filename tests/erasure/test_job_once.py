"""Every `gateway serve` process schedules retention; when several poll at once, one run acts and the purge
happens once. Each engine stands for a process (its own connections, so its own advisory locks on
PostgreSQL; on SQLite the one writer), on a throwaway database with real commits."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from gateway.db.base import utcnow
from gateway.db.engine import create_engine
from gateway.erasure.models import PurgeRecord
from gateway.jobs.election import Outcome, run_if_due
from gateway.jobs.retention import retention_job
from gateway.keys.keyring import Keyring
from gateway.settings import Settings
from tests.support.databases import migrated_database
from tests.support.leavers import load_leavers_school


async def test_processes_polling_together_purge_once(tmp_path: Path) -> None:
    master = os.urandom(32)
    async with migrated_database(tmp_path) as database:
        school = await database.school("880101", "Racing Synthetic Academy")
        async with database.sessions() as session:
            await load_leavers_school(session, Keyring(master), school)
        engines = [create_engine(Settings(database_url=database.url, db_pool_size=2)) for _ in range(4)]
        try:
            processes = [async_sessionmaker(engine, expire_on_commit=False) for engine in engines]
            job = retention_job(master, "https://gateway.example.org", timedelta(hours=1))
            now = utcnow()
            results = await asyncio.gather(*(run_if_due(sessions, job, now=now) for sessions in processes))
            ran = [result for result in results if result.outcome is Outcome.RAN]
            assert len(ran) == 1
            assert ran[0].counts == {"former_pupil_rows": 9, "former_pupil_schools": 1}
            later = await run_if_due(processes[0], job, now=now + timedelta(minutes=61))
            assert later.outcome is Outcome.RAN
            assert later.counts == {}
        finally:
            for engine in engines:
                await engine.dispose()
        async with database.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(PurgeRecord)) == 1
