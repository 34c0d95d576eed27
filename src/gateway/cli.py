"""The `gateway` command for operators and developers (SPEC §1 operator, §9 interfaces)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable, Coroutine
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click
import uvicorn
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gateway.db import migrations
from gateway.db.engine import create_engine
from gateway.errors import Problem
from gateway.keys.envelope import master_key_id
from gateway.keys.keyring import Keyring, foreign_master_key_ids
from gateway.keys.master import resolve_master_key
from gateway.observability.logging import configure_logging
from gateway.openapi_export import DEFAULT_PATH, drift, served_schema
from gateway.settings import Settings, SettingsError, load_settings

P = ParamSpec("P")
T = TypeVar("T")

EXIT_BAD_SETTING = 2
EXIT_DATABASE = 1


class CommandFailed(click.ClickException):
    """A failure the operator can act on: one line on stderr, exit status 1."""

    def show(self, file: Any = None) -> None:
        click.echo(f"gateway: {self.format_message()}", err=True)


class DatabaseUnavailable(CommandFailed):
    exit_code = EXIT_DATABASE


def fail_cleanly(command: Callable[P, T]) -> Callable[P, T]:
    """Settings and database problems end the command with one line, never a traceback."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return command(*args, **kwargs)
        except SettingsError as exc:
            click.echo(f"gateway: {exc}", err=True)
            sys.exit(EXIT_BAD_SETTING)

    return wrapper


def command_settings() -> Settings:
    """The settings for a command, with JSON logging configured; a bad setting is a one-line exit 2."""
    settings = load_settings()
    configure_logging(settings.log_level)
    return settings


def safe_url(settings: Settings) -> str:
    return make_url(settings.resolved_database_url).render_as_string(hide_password=True)


def run_db(settings: Settings, work: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
    """Run `work(engine, *args)` with an engine, turning connection failures into a clear message."""

    async def runner() -> T:
        engine = create_engine(settings)
        try:
            async with asyncio.timeout(settings.db_connect_timeout_seconds * 3):
                return await work(engine, *args)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(runner())
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        reason = type(getattr(exc, "orig", None) or exc).__name__
        raise DatabaseUnavailable(f"cannot reach the database at {safe_url(settings)} ({reason})") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """The gateway: OAuth 2 authorisation for UK school data."""


@main.command()
@click.option("--check", is_flag=True, help="Exit 1 if the database is not at the latest migration.")
@fail_cleanly
def migrate(check: bool) -> None:
    """Bring the database schema to the latest migration (safe to run any number of times)."""
    settings = command_settings()
    if check:
        current = run_db(settings, migrations.current_revision)
        head = migrations.head_revision()
        if current != head:
            raise CommandFailed(f"database is at {current or 'no revision'}, latest is {head}")
        click.echo(f"database is at the latest migration ({head})")
        return
    run_db(settings, migrations.upgrade)
    click.echo(f"database migrated to {migrations.head_revision()} ({safe_url(settings)})")


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
    )


def run_in_transaction(
    settings: Settings, work: Callable[[AsyncSession, Keyring], Coroutine[Any, Any, T]]
) -> T:
    """Run `work(session, keyring)` in one transaction that commits if it returns."""
    master_key = resolve_master_key(settings)

    async def in_transaction(engine: AsyncEngine) -> T:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session, session.begin():
            return await work(session, Keyring(master_key))

    try:
        return run_db(settings, in_transaction)
    except Problem as exc:
        raise CommandFailed(exc.detail) from None


def emit(as_json: bool, created: dict[str, Any], lines: list[str]) -> None:
    """Print what a command created: one JSON object with --json, else lines for a person."""
    if as_json:
        click.echo(json.dumps(created, default=str, sort_keys=True))
    else:
        click.echo("\n".join(lines))


@main.command()
@click.option("--host", default=None, help="Address to bind (default GATEWAY_HOST, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default GATEWAY_PORT, 8000).")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Worker processes (default 1).")
@fail_cleanly
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the gateway with uvicorn. The database must be reachable and migrated."""
    settings = command_settings()
    ensure_ready(settings)
    serve_app(settings, host or settings.host, port or settings.port, workers or settings.workers)


@main.command()
@click.option("--check", is_flag=True, help="Exit 1 if the file differs from the served schema.")
@click.option("--output", type=click.Path(path_type=Path), default=DEFAULT_PATH, show_default=True)
@fail_cleanly
def openapi(check: bool, output: Path) -> None:
    """Write the OpenAPI document the app serves to openapi/openapi.json."""
    from gateway.app import create_app

    app = create_app(load_settings())
    if check:
        if drift(app, output):
            raise CommandFailed(f"{output} is out of date: run `gateway openapi`")
        click.echo(f"{output} matches the served schema")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(served_schema(app), encoding="utf-8")
    click.echo(f"wrote {output}")


@main.command()
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same school.")
@click.option(
    "--students", type=click.IntRange(10, 5000), default=1000, show_default=True, help="Pupils on roll."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve the demo on.")
@click.option("--port", type=int, default=8000, show_default=True, help="Port to serve the demo on.")
@click.option("--no-serve", is_flag=True, help="Load the demo data and print what to try, then exit.")
@click.option(
    "--credentials-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the demo's credentials here as JSON, mode 0600 [default: <data_dir>/demo-credentials.json]",
)
@fail_cleanly
def demo(
    seed: int, students: int, host: str, port: int, no_serve: bool, credentials_file: Path | None
) -> None:
    """Load a synthetic school into the configured database (embedded SQLite by default) and serve."""
    from gateway.demo import run_demo

    settings = command_settings()
    master_key = resolve_master_key(settings)
    run_db(settings, migrations.upgrade)
    base = f"http://{host}:{port}"
    # The demo's issuer is wherever it is served, unless the operator said otherwise.
    os.environ.setdefault("GATEWAY_ISSUER", base)
    run_demo(
        settings,
        master_key,
        seed=seed,
        students=students,
        base_url=base,
        credentials_file=credentials_file or settings.data_dir / "demo-credentials.json",
    )
    if not no_serve:
        serve_app(settings, host, port, 1)


# Operator commands live in their own module; importing it registers them on `main`.
import gateway.audit.cli  # noqa: E402
import gateway.cli_admin  # noqa: E402, F401
