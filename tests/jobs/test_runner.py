"""The scheduler loop (`jobs.runner`): runs due jobs, survives a failing one, stops when told."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.jobs.election import last_run
from gateway.jobs.job import Job
from gateway.jobs.runner import JobRunner, run_jobs

Sessions = async_sessionmaker[AsyncSession]
ALWAYS_DUE = timedelta(microseconds=1)
SECRET = "row gw_rt_not-for-logs"


class Work:
    """Counts its runs; signals once it has run `enough` times; fails or hangs when told to."""

    def __init__(self, *, enough: int = 1, fail: bool = False, hang: bool = False) -> None:
        self.runs = 0
        self.enough = enough
        self.fail = fail
        self.hang = hang
        self.started = asyncio.Event()
        self.done = asyncio.Event()

    async def __call__(self, session: AsyncSession, now: datetime) -> Mapping[str, int]:
        self.runs += 1
        self.started.set()
        if self.runs >= self.enough:
            self.done.set()
        if self.hang:
            await asyncio.Event().wait()
        if self.fail:
            raise RuntimeError(SECRET)
        return {"rows": 2}


async def test_a_failing_job_neither_stops_the_loop_nor_the_other_jobs(
    sessions: Sessions, job_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.jobs")
    failing, working = Work(enough=3, fail=True), Work(enough=3)
    jobs = [Job(f"{job_name}-a", ALWAYS_DUE, failing), Job(f"{job_name}-b", ALWAYS_DUE, working)]
    stop = asyncio.Event()
    task = asyncio.create_task(run_jobs(sessions, jobs, poll=0.001, stop=stop))
    try:
        await asyncio.wait_for(asyncio.gather(failing.done.wait(), working.done.wait()), timeout=10)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=5)

    failures = [record for record in caplog.records if record.getMessage() == "job failed"]
    assert len(failures) >= 3
    assert {(record.__dict__["job"], record.__dict__["error"]) for record in failures} == {
        (f"{job_name}-a", "RuntimeError")
    }
    ran = [record for record in caplog.records if record.getMessage() == "job ran"]
    assert len(ran) >= 3
    assert {record.__dict__["job"] for record in ran} == {f"{job_name}-b"}
    assert all(record.__dict__["counts"] == {"rows": 2} for record in ran)
    assert SECRET not in " ".join(repr(vars(record)) for record in caplog.records)


async def test_the_runner_starts_and_stops(sessions: Sessions, job_name: str) -> None:
    work = Work()
    runner = JobRunner(sessions, [Job(job_name, timedelta(hours=1), work)])
    runner.start()
    assert runner.running
    with pytest.raises(RuntimeError, match="already started"):
        runner.start()
    await asyncio.wait_for(work.done.wait(), timeout=10)  # the first round is at once
    await asyncio.wait_for(runner.stop(), timeout=5)
    assert not runner.running
    assert await last_run(sessions, job_name) is not None
    await runner.stop()  # twice is harmless


async def test_stop_cancels_a_stuck_run_after_its_grace_and_rolls_it_back(
    sessions: Sessions, job_name: str
) -> None:
    work = Work(hang=True)
    runner = JobRunner(sessions, [Job(job_name, timedelta(hours=1), work)], grace=0.05)
    runner.start()
    await asyncio.wait_for(work.started.wait(), timeout=10)
    await asyncio.wait_for(runner.stop(), timeout=5)
    assert not runner.running
    assert await last_run(sessions, job_name) is None  # due again in whichever process polls next


async def test_stop_before_start_does_nothing(sessions: Sessions) -> None:
    runner = JobRunner(sessions, [])
    await runner.stop()
    assert not runner.running


def test_polls_at_least_as_often_as_the_most_frequent_job(sessions: Sessions) -> None:
    jobs = [Job("a", timedelta(seconds=12), Work()), Job("b", timedelta(hours=1), Work())]
    assert JobRunner(sessions, jobs, poll=30).poll == 12
    assert JobRunner(sessions, jobs, poll=5).poll == 5
