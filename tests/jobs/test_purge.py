"""The purge job (`jobs.purge`): every expired row of the four token tables, through the election (its
webhook share: tests/webhooks/test_retention.py)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.db.base import utcnow
from gateway.jobs.checkpoints import checkpoint_job
from gateway.jobs.election import Outcome, run_if_due
from gateway.jobs.job import Job
from gateway.jobs.purge import purge_expired, purge_job
from gateway.jobs.schedule import scheduled_jobs
from gateway.keys.keyring import Keyring
from gateway.settings import Settings
from tests.support.backchannel import connect
from tests.support.expired_rows import TABLES, primary_keys, seed


async def test_the_purge_deletes_exactly_the_expired_rows_of_each_table(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession], keyring: Keyring, job_name: str
) -> None:
    now = utcnow()
    seeded = await seed(session, await connect(session, keyring), now=now)
    before = await primary_keys(session)

    result = await run_if_due(sessions, Job(job_name, timedelta(minutes=5), purge_expired), now=now)
    after = await primary_keys(session)

    assert result.outcome is Outcome.RAN
    webhooks = {
        "webhook_messages",
        "webhook_secrets",
        "webhook_endpoints",
    }  # tests/webhooks/test_retention.py
    assert set(result.counts) == set(TABLES) | webhooks | {"export_chunks"}  # tests/exports
    for table in TABLES:
        deleted = before[table] - after[table]
        assert result.counts[table] == len(deleted), table
        assert deleted & (seeded.doomed[table] | seeded.kept[table]) == seeded.doomed[table], table
        assert seeded.kept[table] <= after[table], table
    assert set((await purge_expired(session, now)).values()) == {0}  # nothing left to do


def test_the_gateway_schedules_its_jobs_the_purge_at_the_configured_interval(settings: Settings) -> None:
    configured = settings.model_copy(update={"purge_interval_seconds": 120})
    master_key = b"k" * 32
    jobs = scheduled_jobs(configured, master_key)
    assert jobs[:2] == [purge_job(timedelta(seconds=120)), checkpoint_job(master_key, configured.issuer)]
    assert [(job.name, job.interval) for job in jobs[2:]] == [("retention", timedelta(hours=1))]
