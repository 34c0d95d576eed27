"""Throwaway databases: a temporary SQLite file, or a fresh PostgreSQL database dropped afterwards."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gateway.db import migrations
from gateway.db.engine import create_engine
from gateway.schools.models import School
from gateway.schools.service import create_school
from gateway.settings import Settings

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


@dataclass(frozen=True)
class MigratedDatabase:
    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    async def school(self, urn: str, name: str) -> School:
        """A committed school, for tests that work across separate connections."""
        async with self.sessions() as session, session.begin():
            return await create_school(
                session, urn=urn, name=name, la_code="201", establishment_number="4001", phase="secondary"
            )


@asynccontextmanager
async def migrated_database(directory: Path, *, pool_size: int = 10) -> AsyncIterator[MigratedDatabase]:
    """A throwaway database of this run's backend, migrated to head, with its own engine."""
    async with throwaway_database(directory) as url:
        engine = create_engine(Settings(database_url=url, db_pool_size=pool_size))
        try:
            await migrations.upgrade(engine)
            yield MigratedDatabase(url, engine, async_sessionmaker(engine, expire_on_commit=False))
        finally:
            await engine.dispose()
