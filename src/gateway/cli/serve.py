"""`gateway serve`: uvicorn in front of the app, after checking the master key and the database.

On SIGTERM each worker drains, then shuts down gracefully (`gateway.http.shutdown`): it exits within
GATEWAY_SHUTDOWN_DRAIN_SECONDS + GATEWAY_SHUTDOWN_GRACE_SECONDS + the background workers' stop (at most 12 s).
"""

from __future__ import annotations

import click
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from gateway.cli.common import CommandFailed, command_settings, fail_cleanly, run_db
from gateway.db import migrations
from gateway.keys.envelope import master_key_id
from gateway.keys.keyring import foreign_master_key_ids
from gateway.keys.master import resolve_master_key
from gateway.settings import Settings


def ensure_ready(settings: Settings) -> None:
    """Fail before serving, with one line, if the master key or the database is not usable."""
    master_key = resolve_master_key(settings)

    async def preflight(engine: AsyncEngine) -> tuple[str | None, set[str]]:
        revision = await migrations.current_revision(engine)
        if revision != migrations.head_revision():
            return revision, set()
        async with async_sessionmaker(engine)() as session:
            return revision, await foreign_master_key_ids(session, master_key_id(master_key))

    revision, foreign = run_db(settings, preflight)
    if revision != migrations.head_revision():
        raise CommandFailed("the database is not migrated: run `gateway migrate` first")
    if foreign:
        raise CommandFailed(
            "GATEWAY_MASTER_KEY does not match the key that wrapped the stored keys "
            f"(id {', '.join(sorted(foreign))})"
        )


def serve_app(settings: Settings, host: str, port: int, workers: int) -> None:
    uvicorn.run(
        "gateway.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_config=None,
        server_header=False,
        proxy_headers=False,
        # After the drain (gateway.http.shutdown): how long requests in flight may take to finish.
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )


@click.command()
@click.option("--host", default=None, help="Address to bind (default GATEWAY_HOST, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default GATEWAY_PORT, 8000).")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Worker processes (default 1).")
@fail_cleanly
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the gateway with uvicorn. The database must be reachable and migrated."""
    settings = command_settings()
    ensure_ready(settings)
    serve_app(settings, host or settings.host, port or settings.port, workers or settings.workers)
