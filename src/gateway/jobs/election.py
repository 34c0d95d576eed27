"""One run of a job per database per interval, however many processes schedule it (SPEC §8).

Every `gateway serve` process asks, every few seconds, whether each job is due. A run that acts does so in
one transaction that, in this order:

1. on PostgreSQL, takes `pg_try_advisory_xact_lock(<the job's key>)`: a process that does not get it skips
   the run at once (another process is running the job) instead of waiting; the lock ends with the
   transaction, so a process that dies mid-run holds nothing;
2. claims the job's row in `job_runs` with a guarded write (insert it if missing, else `UPDATE … SET
   last_run_at = now WHERE last_run_at <= now - interval`): a process that finds it already claimed for
   this interval skips. This is what makes it once per *interval* rather than once at a time, and it also
   holds on SQLite, where several worker processes share one file and one writer (the write is the
   transaction's first statement, so a second process waits for the first to commit, then sees the claim);
3. does the job's work and commits, claim and work together: a run that fails or is cancelled rolls back
   its claim as well, and the job is due again at the next poll.

Before all that, a read-only look at `job_runs` lets a process skip a job that is not due without writing
or locking anything, so the polls of many processes cost one small read each.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.db.guarded import changed_rows
from gateway.db.upsert import insert_for
from gateway.jobs.job import Job
from gateway.jobs.models import JobRun

_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(:key)").bindparams(bindparam("key", type_=BigInteger))
_WAIT_FOR_LOCK = text("SELECT pg_advisory_xact_lock(:key)").bindparams(bindparam("key", type_=BigInteger))


class Outcome(StrEnum):
    RAN = "ran"
    NOT_DUE = "not_due"  # this interval's run has been claimed already (here or in another process)
    BUSY = "busy"  # PostgreSQL: another process holds the job's lock, so it is running it now


@dataclass(frozen=True, slots=True)
class RunResult:
    outcome: Outcome
    counts: Mapping[str, int] = field(default_factory=dict)


def lock_key(name: str) -> int:
    """The job's advisory-lock key: a signed 64-bit number derived from its name, the same in every
    process and release (namespaced, so it is unlikely to meet another application's key)."""
    digest = hashlib.sha256(f"gateway.jobs:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def last_run(sessions: async_sessionmaker[AsyncSession], name: str) -> datetime | None:
    """When the job last ran anywhere on this database (None: never)."""
    async with sessions() as session:
        return await session.scalar(select(JobRun.last_run_at).where(JobRun.name == name))


async def run_if_due(sessions: async_sessionmaker[AsyncSession], job: Job, *, now: datetime) -> RunResult:
    """Run `job` if no run has claimed it within its interval before `now`, in this process or another."""
    previous = await last_run(sessions, job.name)
    if previous is not None and previous > now - job.interval:
        return RunResult(Outcome.NOT_DUE)
    async with sessions.begin() as session:
        if await _is_postgresql(session) and not await session.scalar(_TRY_LOCK, {"key": lock_key(job.name)}):
            return RunResult(Outcome.BUSY)
        if not await _claim(session, job, now=now, forced=False):
            return RunResult(Outcome.NOT_DUE)
        return RunResult(Outcome.RAN, dict(await job.work(session, now)))


async def run_now(sessions: async_sessionmaker[AsyncSession], job: Job, *, now: datetime) -> RunResult:
    """Run `job` at once, due or not (an operator's command): on PostgreSQL it waits for a run in progress
    elsewhere to finish rather than run beside it. It counts as the interval's run."""
    async with sessions.begin() as session:
        if await _is_postgresql(session):
            await session.execute(_WAIT_FOR_LOCK, {"key": lock_key(job.name)})
        await _claim(session, job, now=now, forced=True)
        return RunResult(Outcome.RAN, dict(await job.work(session, now)))


async def _is_postgresql(session: AsyncSession) -> bool:
    return (await session.connection()).dialect.name == "postgresql"


async def _claim(session: AsyncSession, job: Job, *, now: datetime, forced: bool) -> bool:
    """Mark the job as run at `now` for the whole database; False if this interval's run was claimed."""
    inserted = await session.scalar(
        (await insert_for(session, JobRun))
        .values(name=job.name, last_run_at=now)
        .on_conflict_do_nothing(index_elements=[JobRun.name])
        .returning(JobRun.name)
    )
    if inserted is not None:
        return True
    guard = [] if forced else [JobRun.last_run_at <= now - job.interval]
    claimed = update(JobRun).where(JobRun.name == job.name, *guard).values(last_run_at=now)
    return bool(await changed_rows(session, claimed))
