"""What every `gateway` command shares: one-line failures, settings, the database, printing results."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gateway.db.engine import create_engine
from gateway.errors import Problem
from gateway.keys.keyring import Keyring
from gateway.keys.master import resolve_master_key
from gateway.observability.logging import configure_logging
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


def run_unbounded(settings: Settings, work: Callable[[AsyncEngine], Coroutine[Any, Any, T]]) -> T:
    """`run_db` without its overall time limit, for work that takes as long as the data makes it (reading a
    long log, a large purge). Connecting is still bounded by GATEWAY_DB_CONNECT_TIMEOUT_SECONDS."""

    async def runner() -> T:
        engine = create_engine(settings)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(runner())
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        reason = type(getattr(exc, "orig", None) or exc).__name__
        raise DatabaseUnavailable(f"cannot reach the database at {safe_url(settings)} ({reason})") from None


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
