"""The purge of expired rows (SPEC §5): anonymous `/oauth/authorize` requests and every code and token row
nothing can use any more, finished webhook messages, and exports downloaded or expired. The rules live
beside their tables: `consent.requests.purge_expired_requests`, `tokens.expiry.purge_expired_tokens`,
`webhooks.retention.purge_webhooks`, `exports.retention.purge_exports`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.consent.requests import purge_expired_requests
from gateway.exports.retention import purge_exports
from gateway.jobs.job import Job
from gateway.tokens.expiry import purge_expired_tokens
from gateway.webhooks.retention import purge_webhooks

PURGE_EXPIRED: Final = "purge-expired"


async def purge_expired(session: AsyncSession, now: datetime) -> dict[str, int]:
    """Delete what has expired; how many rows of each table (the keys are the table names)."""
    requests = await purge_expired_requests(session, now=now)
    tokens = await purge_expired_tokens(session, now=now)
    return {
        "authorization_requests": requests,
        **tokens.counts(),
        **await purge_webhooks(session, now),
        **await purge_exports(session, now),
    }


def purge_job(interval: timedelta) -> Job:
    return Job(PURGE_EXPIRED, interval, purge_expired)
