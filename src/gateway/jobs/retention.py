"""The scheduled retention run: every `gateway serve` process schedules it, one run per interval acts
(`gateway.jobs.election`: a PostgreSQL advisory lock and a guarded claim; on SQLite the one writer).

Each run does what is due by the end of today in England for every school, in the job's one transaction:
a run that fails or is cut off rolls back whole and the next run does it all again, so every run is
idempotent and a crashed one resumes by starting over.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.events import SYSTEM
from gateway.erasure.clock import day_in_england
from gateway.erasure.plan import act_on_school, schools_in_order
from gateway.jobs.job import Job
from gateway.keys.keyring import Keyring

RETENTION: Final = "retention"
DEFAULT_INTERVAL: Final = timedelta(hours=1)


def retention_job(master_key: bytes, issuer: str, interval: timedelta = DEFAULT_INTERVAL) -> Job:
    keyring = Keyring(master_key)

    async def work(session: AsyncSession, now: datetime) -> Mapping[str, int]:
        today = day_in_england(now)
        totals: dict[str, int] = {}
        for school in await schools_in_order(session):
            done = await act_on_school(
                session, keyring, school.id, today=today, now=now, actor=SYSTEM, issuer=issuer
            )
            for rule, rows in done.purges.items():
                totals[f"{rule}_rows"] = totals.get(f"{rule}_rows", 0) + rows
                totals[f"{rule}_schools"] = totals.get(f"{rule}_schools", 0) + 1
            if done.warned:
                totals["admins_warned"] = totals.get("admins_warned", 0) + done.warned
        return totals

    return Job(RETENTION, interval, work)
