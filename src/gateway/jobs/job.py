"""A periodic job: a stable name, how often it acts, and its work in one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

Work = Callable[[AsyncSession, datetime], Awaitable[Mapping[str, int]]]
"""`work(session, now)`: does the job in the transaction it is given (flush, never commit) and returns
counts of what it did, by name (counts only: they are logged and printed)."""

NAME_MAX_LENGTH = 64


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    """Stable across releases: it names the job's row in `job_runs` and its advisory lock."""
    interval: timedelta
    work: Work

    def __post_init__(self) -> None:
        if not 0 < len(self.name) <= NAME_MAX_LENGTH:
            raise ValueError(f"a job name is 1 to {NAME_MAX_LENGTH} characters")
        if self.interval <= timedelta(0):
            raise ValueError("a job's interval must be positive")
