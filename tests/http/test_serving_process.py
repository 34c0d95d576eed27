"""What a serving process (an app that owns its database) does at start-up beyond the background workers."""

from __future__ import annotations

import gc
from pathlib import Path

import httpx
from fastapi import FastAPI

from gateway.app import create_app
from gateway.db import migrations
from gateway.db.engine import create_engine
from gateway.settings import Settings
from tests.support.http import TEST_ISSUER


async def test_a_serving_process_freezes_what_lives_as_long_as_it(settings: Settings, tmp_path: Path) -> None:
    """After start-up the process's long-lived objects are out of the cyclic collector's scans
    (`gc.freeze`); an app sharing a database (a test's) leaves the collector alone."""
    own = settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{tmp_path / 'own.db'}"})
    engine = create_engine(own)
    await migrations.upgrade(engine)
    await engine.dispose()
    app = create_app(own)
    gc.unfreeze()
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=TEST_ISSUER) as client,
        ):
            assert gc.get_freeze_count() > 10_000
            assert (await client.get("/healthz")).status_code == 200
    finally:
        gc.unfreeze()


async def test_an_app_on_a_shared_database_does_not_freeze(app: FastAPI) -> None:
    gc.unfreeze()
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() == 0
