"""On PostgreSQL, processes racing for the same job act once: the advisory lock lets one run it, the others
skip at once; the claim makes it once per interval. Each engine here stands for a `gateway serve` process
(its own connections, so its own advisory locks), on a throwaway database with real commits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.db.base import utcnow
from gateway.db.engine import create_engine
from gateway.jobs.election import Outcome, RunResult, run_if_due, run_now
from gateway.jobs.job import Job
from gateway.settings import Settings
from tests.support.databases import MigratedDatabase, migrated_database

pytestmark = pytest.mark.postgres_only

Sessions = async_sessionmaker[AsyncSession]
INTERVAL = timedelta(minutes=5)


class Held:
    """Work that records each run and, while `hold` is set, waits for `release` (a run in progress)."""

    def __init__(self, *, hold: bool = True) -> None:
        self.log: list[str] = []
        self.hold = hold
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, session: AsyncSession, now: datetime) -> Mapping[str, int]:
        self.log.append("start")
        self.started.set()
        if self.hold:
            await self.release.wait()
        self.log.append("end")
        return {"runs": self.log.count("end")}


@asynccontextmanager
async def processes(tmp_path: Path, count: int) -> AsyncIterator[tuple[MigratedDatabase, list[Sessions]]]:
    async with migrated_database(tmp_path) as database:
        engines = [create_engine(Settings(database_url=database.url, db_pool_size=2)) for _ in range(count)]
        try:
            yield database, [async_sessionmaker(engine, expire_on_commit=False) for engine in engines]
        finally:
            for engine in engines:
                await engine.dispose()


async def test_a_second_process_skips_while_the_first_runs_then_finds_it_done(tmp_path: Path) -> None:
    async with processes(tmp_path, 2) as (_database, (first, second)):
        work = Held()
        job = Job("purge-expired", INTERVAL, work)
        now = utcnow()
        running = asyncio.create_task(run_if_due(first, job, now=now))
        await asyncio.wait_for(work.started.wait(), timeout=10)

        busy = await run_if_due(second, job, now=now + timedelta(seconds=1))
        assert busy.outcome is Outcome.BUSY
        work.release.set()
        assert (await asyncio.wait_for(running, timeout=10)).outcome is Outcome.RAN
        after = await run_if_due(second, job, now=now + timedelta(seconds=2))
        assert after.outcome is Outcome.NOT_DUE
        assert work.log == ["start", "end"]


async def test_many_processes_racing_run_the_job_once(tmp_path: Path) -> None:
    async with processes(tmp_path, 8) as (_database, everyone):
        work = Held(hold=False)
        job = Job("purge-expired", INTERVAL, work)
        now = utcnow()
        results: list[RunResult] = await asyncio.gather(
            *(run_if_due(sessions, job, now=now) for sessions in everyone)
        )
        outcomes = sorted(result.outcome for result in results)
        assert outcomes.count(Outcome.RAN) == 1
        assert set(outcomes) <= {Outcome.RAN, Outcome.BUSY, Outcome.NOT_DUE}
        assert work.log == ["start", "end"]


async def test_running_now_waits_for_a_run_in_progress_instead_of_running_beside_it(tmp_path: Path) -> None:
    async with processes(tmp_path, 2) as (database, (server, operator)):
        work = Held()
        job = Job("purge-expired", INTERVAL, work)
        now = utcnow()
        running = asyncio.create_task(run_if_due(server, job, now=now))
        await asyncio.wait_for(work.started.wait(), timeout=10)

        forced = asyncio.create_task(run_now(operator, job, now=now))
        async with database.sessions() as observer:
            waiting = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            async with asyncio.timeout(10):
                while not await observer.scalar(waiting):
                    await observer.rollback()  # a fresh snapshot of pg_locks each time
        assert not forced.done()
        assert work.log == ["start"]

        work.release.set()
        assert (await asyncio.wait_for(running, timeout=10)).outcome is Outcome.RAN
        assert (await asyncio.wait_for(forced, timeout=10)).outcome is Outcome.RAN
        assert work.log == ["start", "end", "start", "end"]
