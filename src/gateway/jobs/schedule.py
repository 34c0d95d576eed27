"""The one list of periodic jobs `gateway serve` runs (each process schedules all of them)."""

from __future__ import annotations

from datetime import timedelta

from gateway.jobs.checkpoints import checkpoint_job
from gateway.jobs.job import Job
from gateway.jobs.purge import purge_job
from gateway.jobs.retention import retention_job
from gateway.settings import Settings


def scheduled_jobs(settings: Settings, master_key: bytes) -> list[Job]:
    """The purge of expired rows, the daily signed checkpoint of every authorisation log (which signs with
    the gateway's signing key, so it needs the master key that unwraps it), and the hourly retention run
    (which opens records to find former pupils and shreds data keys)."""
    return [
        purge_job(timedelta(seconds=settings.purge_interval_seconds)),
        checkpoint_job(master_key, settings.issuer),
        retention_job(master_key, settings.issuer),
    ]
