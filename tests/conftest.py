"""Shared fixtures. Each pytest run uses one backend (GATEWAY_TEST_DATABASE=sqlite|postgresql).

One throwaway database per run, built by the migrations. Each test runs inside an outer transaction on
its own connection that is rolled back at the end, so tests never see each other's rows; the app's
per-request commits become SAVEPOINT releases inside it.
"""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from gateway.app import create_app
from gateway.auth.passwords import CHEAP_TEST_PARAMETERS, PasswordHashing
from gateway.db import migrations
from gateway.db.engine import create_engine
from gateway.db.session import Database
from gateway.keys.keyring import Keyring
from gateway.settings import Settings
from tests.support.databases import backend, throwaway_database

TEST_ISSUER = "http://127.0.0.1:8000"


def pytest_report_header() -> str:
    return f"gateway test database: {backend()}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if backend() != "postgresql":
        skip = pytest.mark.skip(reason="needs PostgreSQL: runs in the PostgreSQL pass")
        for item in items:
            if "postgres_only" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def master_key_b64() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gateway")


@pytest.fixture(scope="session")
async def database_url(run_dir: Path) -> AsyncIterator[str]:
    async with throwaway_database(run_dir) as url:
        engine = create_engine(Settings(database_url=url))
        try:
            await migrations.upgrade(engine)
        finally:
            await engine.dispose()
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str, master_key_b64: str, run_dir: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        master_key=master_key_b64,
        issuer=TEST_ISSUER,
        data_dir=run_dir,
    )


@pytest.fixture(scope="session")
def server_env(settings: Settings, master_key_b64: str) -> dict[str, str]:
    """Environment for a real `gateway serve` process on this run's database."""
    return {
        "GATEWAY_ENVIRONMENT": "test",
        "GATEWAY_DATABASE_URL": settings.resolved_database_url,
        "GATEWAY_MASTER_KEY": master_key_b64,
        "GATEWAY_DATA_DIR": str(settings.data_dir),
        "GATEWAY_LOG_LEVEL": "WARNING",
    }


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            if transaction.is_active:
                await transaction.rollback()


@pytest.fixture
def test_database(engine: AsyncEngine, connection: AsyncConnection) -> Database:
    sessionmaker = async_sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    return Database(engine, sessionmaker)


@pytest.fixture
async def session(test_database: Database) -> AsyncIterator[AsyncSession]:
    async with test_database.sessionmaker() as session:
        yield session


@pytest.fixture
def app(settings: Settings, test_database: Database, master_key_b64: str) -> FastAPI:
    return create_app(
        settings,
        database=test_database,
        master_key=base64.b64decode(master_key_b64),
        password_hashing=PasswordHashing(CHEAP_TEST_PARAMETERS),
    )


@pytest.fixture
def keyring(master_key_b64: str) -> Keyring:
    """A keyring on the test master key, as the app has (its caches are its own)."""
    return Keyring(base64.b64decode(master_key_b64))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=TEST_ISSUER) as client:
        yield client


@pytest.fixture
def env_without_gateway(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Clear every GATEWAY_* variable so a test states exactly the configuration it means."""
    for name in list(os.environ):
        if name.startswith("GATEWAY_") and not name.startswith("GATEWAY_TEST_"):
            monkeypatch.delenv(name)
    return {}
