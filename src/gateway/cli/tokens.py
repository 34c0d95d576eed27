"""`gateway tokens purge`: the operator deletes expired authorization requests, codes and tokens now.

`gateway serve` does the same every GATEWAY_PURGE_INTERVAL_SECONDS (`jobs.purge`); this runs one purge at
once, through the same election (on PostgreSQL it waits for a purge running in a server to finish first),
and counts as that interval's run.
"""

from __future__ import annotations

from datetime import timedelta

import click
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from gateway.cli.common import CommandFailed, command_settings, emit, fail_cleanly, run_unbounded
from gateway.db import migrations
from gateway.db.base import utcnow
from gateway.jobs.election import run_now
from gateway.jobs.purge import purge_job

LABELS = {
    "authorization_requests": "expired authorization requests",
    "authorization_codes": "expired authorization codes",
    "refresh_tokens": "expired refresh tokens",
    "access_tokens": "expired access-token rows",
    "webhook_messages": "webhook messages finished over 30 days ago",
    "webhook_secrets": "retired webhook secrets",
    "webhook_endpoints": "webhook endpoint states of deleted apps",
    "export_chunks": "sealed chunks of exports downloaded, expired or failed",
}


@click.group()
def tokens() -> None:
    """Authorization requests, codes and tokens."""


@tokens.command("purge")
@click.option("--json", "as_json", is_flag=True, help="Print how many rows were deleted as one JSON object.")
@fail_cleanly
def tokens_purge(as_json: bool) -> None:
    """Delete expired authorization requests, codes, refresh tokens and access-token rows (counts only)."""
    settings = command_settings()

    async def work(engine: AsyncEngine) -> dict[str, int]:
        if not await migrations.is_at_head(engine):
            raise CommandFailed("the database is not migrated: run `gateway migrate` first")
        job = purge_job(timedelta(seconds=settings.purge_interval_seconds))
        result = await run_now(async_sessionmaker(engine, expire_on_commit=False), job, now=utcnow())
        return dict(result.counts)

    deleted = run_unbounded(settings, work)
    lines = [f"deleted {deleted[name]} {label}" for name, label in LABELS.items()]
    emit(as_json, deleted, lines)
