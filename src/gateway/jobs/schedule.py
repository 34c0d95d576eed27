"""The one list of periodic jobs `gateway serve` runs (each process schedules all of them)."""

from __future__ import annotations

from datetime import timedelta

from gateway.jobs.job import Job
from gateway.jobs.purge import purge_job
from gateway.settings import Settings


def scheduled_jobs(settings: Settings) -> list[Job]:
    return [purge_job(timedelta(seconds=settings.purge_interval_seconds))]
