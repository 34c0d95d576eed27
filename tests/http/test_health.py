"""/healthz, /readyz and /metrics, including readiness when the database goes away and comes back."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from gateway.app import create_app
from gateway.db.session import Database
from gateway.settings import Settings
from tests.support.databases import backend
from tests.support.http import TEST_ISSUER
from tests.support.tcp_proxy import app_behind_proxy


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_when_migrated(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


async def _get(settings: Settings, path: str) -> httpx.Response:
    app = create_app(settings)
    database = Database.from_settings(settings)
    app.state.database = database
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=TEST_ISSUER) as client:
            return await client.get(path)
    finally:
        await database.dispose()


async def test_readyz_is_503_when_the_schema_is_not_migrated(settings: Settings, tmp_path: Path) -> None:
    if backend() == "postgresql":
        pytest.skip("covered on SQLite; PostgreSQL is exercised by the proxy test")
    unmigrated = settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"})
    response = await _get(unmigrated, "/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "expected" in response.json()["detail"]


async def test_readyz_is_503_when_the_database_cannot_be_opened(settings: Settings, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}"  # a directory, not a database file
    if backend() == "postgresql":
        url = "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"
    response = await _get(settings.model_copy(update={"database_url": url}), "/readyz")
    assert response.status_code == 503
    assert response.json()["detail"] == "The database cannot be reached."
    assert response.headers["retry-after"] == "5"
    assert "127.0.0.1:1" not in response.text


@pytest.mark.postgres_only
async def test_readyz_follows_the_database_going_away_and_returning(settings: Settings) -> None:
    async with app_behind_proxy(settings, connect_timeout=1.0) as (client, proxy):
        assert (await client.get("/readyz")).status_code == 200
        await proxy.stop()
        assert (await client.get("/readyz")).status_code == 503
        assert (await client.get("/healthz")).status_code == 200
        await proxy.start()
        assert (await client.get("/readyz")).status_code == 200


@pytest.mark.postgres_only
async def test_a_stale_connection_after_a_database_restart_costs_one_503(
    settings: Settings, master_key_b64: str
) -> None:
    unknown_key = {"authorization": "Bearer gw_sk_000000000000_" + "x" * 43}
    async with app_behind_proxy(settings, master_key=base64.b64decode(master_key_b64)) as (client, proxy):
        assert (await client.get("/manage/v1/api-keys", headers=unknown_key)).status_code == 401
        await proxy.stop()  # the pooled connection dies with the "restart"
        await proxy.start()
        stale = await client.get("/manage/v1/api-keys", headers=unknown_key)
        assert stale.status_code == 503
        assert stale.headers["retry-after"] == "1"
        assert stale.headers["content-type"] == "application/problem+json"
        assert (await client.get("/manage/v1/api-keys", headers=unknown_key)).status_code == 401


async def test_metrics_use_route_templates_not_raw_paths(client: httpx.AsyncClient) -> None:
    await client.get("/healthz?pupil=Ada")
    await client.get("/no/such/pupil/12345")
    body = (await client.get("/metrics")).text
    assert re.search(r'gateway_http_requests_total\{method="GET",route="/healthz",status="200"\} 1\.0', body)
    assert 'route="unmatched",status="404"' in body
    assert "12345" not in body
    assert "Ada" not in body
    assert "gateway_http_request_duration_seconds_bucket" in body
    assert "gateway_db_pool_" in body or backend() == "sqlite"


async def test_an_app_started_again_is_ready_again(app: FastAPI) -> None:
    """The end of a lifespan marks the app as shutting down; the next start serves again (an ASGI test
    client runs the lifespan once per use of the app)."""
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=TEST_ISSUER) as client,
    ):
        assert (await client.get("/readyz")).status_code == 200
    async with httpx.AsyncClient(transport=transport, base_url=TEST_ISSUER) as client:
        ended = await client.get("/readyz")
        assert ended.status_code == 503
        assert ended.json()["detail"] == "The server is shutting down."
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=TEST_ISSUER) as client,
    ):
        assert (await client.get("/readyz")).status_code == 200
