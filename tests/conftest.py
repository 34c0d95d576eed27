"""Shared fixtures. Each pytest run uses one backend (GATEWAY_TEST_DATABASE=sqlite|postgresql).

One throwaway database per run, built by the migrations. Each test runs inside an outer transaction on
its own connection that is rolled back at the end, so tests never see each other's rows; the app's
per-request commits become SAVEPOINT releases inside it.

Fixtures used by more than one test package live here too (the helpers they build on are in
tests/support/); a package's own fixtures are in its conftest.py. Two names are overridden lower down:
`browser` in tests/e2e (a Chromium browser) and `connected` in tests/data_api (a loaded school).
"""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from gateway.app import create_app
from gateway.auth.passwords import CHEAP_TEST_PARAMETERS, PasswordHashing
from gateway.consent.receipts import bind_signer
from gateway.db import migrations
from gateway.db.engine import create_engine
from gateway.db.session import Database
from gateway.keys.keyring import Keyring
from gateway.keys.signing import forget_published_keys
from gateway.settings import Settings
from tests.support import accounts, grants
from tests.support.accounts import Account, make_account
from tests.support.consent_flow import Party, make_party
from tests.support.databases import backend, throwaway_database
from tests.support.developers import DeveloperWithKey, make_developer
from tests.support.http import TEST_ISSUER
from tests.support.server import free_port
from tests.support.smtp import Inbox, SmtpServer
from tests.support.world import World


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
async def session(
    test_database: Database, settings: Settings, keyring: Keyring
) -> AsyncIterator[AsyncSession]:
    """Bound like a request's session, so grant decisions made in it sign their consent receipts."""
    async with test_database.sessionmaker() as session:
        bind_signer(session, keyring, settings.issuer)
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
def master_key(master_key_b64: str) -> bytes:
    return base64.b64decode(master_key_b64)


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


@pytest.fixture
def fresh_jwks_cache() -> Iterator[None]:
    """The JWKS cache is per process; each test's signing keys are rolled back with it and must not leak
    into the next. Packages whose every test needs this request it from an autouse fixture."""
    forget_published_keys()
    yield
    forget_published_keys()


# --- Admins, developers and apps ------------------------------------------------------------------------


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Keeps cookies like a browser; https so `__Host-` (Secure) cookies are sent back."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=accounts.ISSUER) as client:
        yield client


@pytest.fixture
async def account(session: AsyncSession) -> Account:
    return await make_account(session, "head.teacher@synthetic-school.example.org")


@pytest.fixture
async def other_account(session: AsyncSession) -> Account:
    return await make_account(session, "office@other-school.example.org")


@pytest.fixture
async def developer(session: AsyncSession, keyring: Keyring) -> DeveloperWithKey:
    return await make_developer(session, keyring, "Synthetic Apps Ltd", "Dev@Synthetic-Apps.example.org")


@pytest.fixture
async def other_developer(session: AsyncSession, keyring: Keyring) -> DeveloperWithKey:
    return await make_developer(session, keyring, "Other Apps Ltd", "dev@other-apps.example.org")


@pytest.fixture
def world(session: AsyncSession, keyring: Keyring, settings: Settings) -> World:
    return World(session, keyring, settings.issuer)


@pytest.fixture
async def party(session: AsyncSession, keyring: Keyring) -> Party:
    return await make_party(session, keyring, "head@vale.example.org")


@pytest.fixture
async def connected(session: AsyncSession, keyring: Keyring) -> grants.Connected:
    return await grants.connect(session, await make_party(session, keyring, "head@vale.example.org"))


@pytest.fixture
async def other_connected(session: AsyncSession, keyring: Keyring) -> grants.Connected:
    return await grants.connect(session, await make_party(session, keyring, "office@brook.example.org"))


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """Not started: a test starts it when it wants the server up."""
    server = SmtpServer(free_port(), Inbox())
    try:
        yield server
    finally:
        server.stop()
