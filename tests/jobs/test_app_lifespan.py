"""The app's lifespan starts the job runner with the server and stops it with the server; in between, the
purge runs on the app's own database (a throwaway one here: its commits are real)."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
from pathlib import Path

import pytest

from gateway.app import create_app
from gateway.auth.passwords import CHEAP_TEST_PARAMETERS, PasswordHashing
from gateway.db.base import utcnow
from gateway.jobs.election import last_run
from gateway.jobs.purge import PURGE_EXPIRED
from gateway.jobs.runner import JobRunner
from gateway.keys.keyring import Keyring
from gateway.settings import Settings
from tests.support.backchannel import ISSUER, connect
from tests.support.databases import migrated_database
from tests.support.expired_rows import TABLES, primary_keys, seed


class Ran(logging.Handler):
    """Sets `event` when the runner logs that the purge ran."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.event = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "job ran" and record.__dict__.get("job") == PURGE_EXPIRED:
            self.event.set()


async def test_the_purge_runs_while_the_app_serves(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gateway.jobs")
    ran = Ran()
    logging.getLogger("gateway.jobs").addHandler(ran)
    master_key = os.urandom(32)
    async with migrated_database(tmp_path) as database:
        async with database.sessions() as session:
            seeded = await seed(session, await connect(session, Keyring(master_key)), now=utcnow())
        settings = Settings(
            environment="test",
            database_url=database.url,
            master_key=base64.b64encode(master_key).decode(),
            issuer=ISSUER,
            data_dir=tmp_path,
        )
        app = create_app(
            settings, master_key=master_key, password_hashing=PasswordHashing(CHEAP_TEST_PARAMETERS)
        )
        assert app.state.job_runner is None
        try:
            async with app.router.lifespan_context(app):
                runner: JobRunner = app.state.job_runner
                assert runner.running
                await asyncio.wait_for(ran.event.wait(), timeout=30)  # the first round is at start-up
        finally:
            logging.getLogger("gateway.jobs").removeHandler(ran)
        assert not runner.running
        assert await last_run(database.sessions, PURGE_EXPIRED) is not None

        async with database.sessions() as session:
            remaining = await primary_keys(session)
        for table in TABLES:
            assert not seeded.doomed[table] & remaining[table], table
            assert seeded.kept[table] <= remaining[table], table
