"""What the job runner stores: when each job last ran, once for the whole database (not per process)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base
from gateway.jobs.job import NAME_MAX_LENGTH


class JobRun(Base):
    """One row per job, claimed by the run that acts (`jobs.election`); rolled back with a run that fails,
    so a run cut short is due again at once."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH), primary_key=True)
    last_run_at: Mapped[datetime]
