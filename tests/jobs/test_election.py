"""One run per database per interval (`jobs.election`), on the test's own connection (both databases)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.db.base import utcnow
from gateway.jobs.election import Outcome, last_run, lock_key, run_if_due, run_now
from gateway.jobs.job import Job

Sessions = async_sessionmaker[AsyncSession]
HOUR = timedelta(hours=1)


class Counting:
    """A job's work that counts its runs and reports the count."""

    def __init__(self) -> None:
        self.runs: list[datetime] = []

    async def __call__(self, session: AsyncSession, now: datetime) -> Mapping[str, int]:
        self.runs.append(now)
        return {"runs": len(self.runs)}


async def test_a_job_acts_once_per_interval(sessions: Sessions, job_name: str) -> None:
    work = Counting()
    job = Job(job_name, HOUR, work)
    now = utcnow()

    first = await run_if_due(sessions, job, now=now)
    assert (first.outcome, first.counts) == (Outcome.RAN, {"runs": 1})
    assert await last_run(sessions, job_name) == now
    assert (await run_if_due(sessions, job, now=now)).outcome is Outcome.NOT_DUE
    assert (await run_if_due(sessions, job, now=now + HOUR - timedelta(seconds=1))).outcome is Outcome.NOT_DUE
    assert (await run_if_due(sessions, job, now=now + HOUR)).outcome is Outcome.RAN
    assert work.runs == [now, now + HOUR]


async def test_running_now_ignores_the_schedule_and_counts_as_the_run(
    sessions: Sessions, job_name: str
) -> None:
    work = Counting()
    job = Job(job_name, HOUR, work)
    now = utcnow()
    assert (await run_if_due(sessions, job, now=now)).outcome is Outcome.RAN

    forced = await run_now(sessions, job, now=now + timedelta(minutes=1))
    assert (forced.outcome, forced.counts) == (Outcome.RAN, {"runs": 2})
    assert (await run_if_due(sessions, job, now=now + HOUR)).outcome is Outcome.NOT_DUE
    assert (await run_if_due(sessions, job, now=now + HOUR + timedelta(minutes=1))).outcome is Outcome.RAN


async def test_a_run_that_fails_leaves_no_claim_behind(sessions: Sessions, job_name: str) -> None:
    async def failing(session: AsyncSession, now: datetime) -> Mapping[str, int]:
        raise RuntimeError("the database went away")

    now = utcnow()
    with pytest.raises(RuntimeError):
        await run_if_due(sessions, Job(job_name, HOUR, failing), now=now)
    assert await last_run(sessions, job_name) is None
    work = Counting()
    assert (await run_if_due(sessions, Job(job_name, HOUR, work), now=now)).outcome is Outcome.RAN


def test_lock_keys_are_stable_signed_64_bit_numbers() -> None:
    assert lock_key("purge-expired") == lock_key("purge-expired")
    assert lock_key("purge-expired") != lock_key("retention")
    for name in ("purge-expired", "retention", "x" * 64):
        assert -(2**63) <= lock_key(name) < 2**63


@pytest.mark.parametrize(("name", "interval"), [("", HOUR), ("x" * 65, HOUR), ("job", timedelta(0))])
def test_a_job_needs_a_name_and_a_positive_interval(name: str, interval: timedelta) -> None:
    with pytest.raises(ValueError, match="job"):
        Job(name, interval, Counting())
