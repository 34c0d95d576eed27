"""The daily signed checkpoint of every school's authorisation-log head (SPEC §4; `audit.checkpoints`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.checkpoints import store_checkpoints
from gateway.jobs.job import Job

AUDIT_CHECKPOINT: Final = "audit-checkpoint"
CHECKPOINT_INTERVAL: Final = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class SignCheckpoints:
    """The job's work: sign and store a checkpoint of each school's chain head with the active key."""

    master_key: bytes = field(repr=False)
    issuer: str

    async def __call__(self, session: AsyncSession, now: datetime) -> dict[str, int]:
        return {
            "audit_checkpoints": len(
                await store_checkpoints(session, self.master_key, issuer=self.issuer, now=now)
            )
        }


def checkpoint_job(master_key: bytes, issuer: str, interval: timedelta = CHECKPOINT_INTERVAL) -> Job:
    return Job(AUDIT_CHECKPOINT, interval, SignCheckpoints(master_key, issuer))
