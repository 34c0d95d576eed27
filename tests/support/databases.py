"""Throwaway databases: a temporary SQLite file, or a fresh PostgreSQL database dropped afterwards."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def backend() -> str:
    """Which database this pytest run uses: `sqlite` (default) or `postgresql`."""
    chosen = os.environ.get("GATEWAY_TEST_DATABASE", "sqlite")
    if chosen not in {"sqlite", "postgresql"}:
        raise RuntimeError(f"GATEWAY_TEST_DATABASE must be sqlite or postgresql, not {chosen!r}")
    return chosen


def postgres_admin_url() -> str:
    return os.environ.get("GATEWAY_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def wait_for_postgres(url: str, seconds: float) -> None:
    """Raise with a clear message if PostgreSQL does not answer within `seconds`."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            connection = await asyncpg.connect(_asyncpg_dsn(url), timeout=2)
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            if asyncio.get_running_loop().time() > deadline:
                safe = make_url(url).render_as_string(hide_password=True)
                raise RuntimeError(f"PostgreSQL is not reachable at {safe}: {exc}") from None
            await asyncio.sleep(0.5)
        else:
            await connection.close()
            return


@asynccontextmanager
async def throwaway_postgres(admin_url: str) -> AsyncIterator[str]:
    name = f"gateway_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_asyncpg_dsn(admin_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(_asyncpg_dsn(admin_url))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@asynccontextmanager
async def throwaway_database(directory: Path) -> AsyncIterator[str]:
    """A fresh, empty database of this run's backend."""
    if backend() == "postgresql":
        async with throwaway_postgres(postgres_admin_url()) as url:
            yield url
    else:
        yield f"sqlite+aiosqlite:///{directory / f'gateway-{uuid.uuid4().hex[:8]}.db'}"
