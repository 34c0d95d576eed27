"""The scheduler each `gateway serve` process runs: every few seconds, each job that is due (`jobs.election`).

Like the mail sender (`email.worker`), it survives every error, logging only the job and the error's class
(the next poll may succeed: a database back up), and stops within a grace period: a run still in progress
then is cancelled, its transaction rolls back with its claim, and the job is due again in whichever
process polls next.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.background import BackgroundLoop
from gateway.db.base import utcnow
from gateway.jobs.election import Outcome, run_if_due
from gateway.jobs.job import Job
from gateway.observability.logging import log_fields

DEFAULT_POLL_SECONDS = 30.0
"""How often a process asks whether each job is due: a job acts at most this long after it falls due."""
DEFAULT_GRACE_SECONDS = 10.0

logger = logging.getLogger(__name__)


async def run_jobs(
    sessions: async_sessionmaker[AsyncSession], jobs: Sequence[Job], *, poll: float, stop: asyncio.Event
) -> None:
    """Run each due job, then wait `poll` seconds, until `stop` is set. The first round is at once."""
    while not stop.is_set():
        for job in jobs:
            if stop.is_set():
                return
            await run_job_safely(sessions, job)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=poll)


async def run_job_safely(sessions: async_sessionmaker[AsyncSession], job: Job) -> None:
    """One attempt at `job`: what it did is logged as counts; a failure as its class only (an error's text
    can carry values from the database)."""
    try:
        result = await run_if_due(sessions, job, now=utcnow())
    except Exception as exc:
        logger.error("job failed", extra=log_fields(job=job.name, error=type(exc).__name__))
        return
    if result.outcome is Outcome.RAN:
        logger.info("job ran", extra=log_fields(job=job.name, counts=dict(result.counts)))


class JobRunner(BackgroundLoop):
    """`run_jobs` as a task, for the app's lifespan: `start()` at start-up, `await stop()` at shutdown, which
    lets a run in progress finish for `grace` seconds, then cancels it (it rolls back)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        jobs: Sequence[Job],
        *,
        poll: float = DEFAULT_POLL_SECONDS,
        grace: float = DEFAULT_GRACE_SECONDS,
    ) -> None:
        super().__init__("job runner", grace=grace)
        self.sessions = sessions
        self.jobs = tuple(jobs)
        # Polling less often than the most frequent job would run it late.
        self.poll = min([poll, *(job.interval.total_seconds() for job in self.jobs)])

    def start(self) -> None:
        self._start(lambda stop: run_jobs(self.sessions, self.jobs, poll=self.poll, stop=stop))
