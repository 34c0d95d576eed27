"""`gateway tokens purge [--json]`: the purge, once, from the command line (counts only)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from gateway.db.base import utcnow
from gateway.jobs.election import last_run
from gateway.jobs.purge import PURGE_EXPIRED
from gateway.keys.keyring import Keyring
from tests.support.backchannel import connect
from tests.support.cli import gateway
from tests.support.databases import migrated_database, throwaway_database
from tests.support.expired_rows import TABLES, primary_keys, seed


async def test_the_command_deletes_what_has_expired_and_prints_the_counts(tmp_path: Path) -> None:
    async with migrated_database(tmp_path) as database:
        async with database.sessions() as session:
            seeded = await seed(session, await connect(session, Keyring(os.urandom(32))), now=utcnow())
        env = {"GATEWAY_DATABASE_URL": database.url, "GATEWAY_DATA_DIR": str(tmp_path)}

        result = gateway("tokens", "purge", "--json", env=env)
        assert result.returncode == 0, result.stderr
        webhooks = {"webhook_messages": 0, "webhook_secrets": 0, "webhook_endpoints": 0}  # none seeded here
        webhooks |= {"export_chunks": 0}  # nor exports (tests/exports)
        assert json.loads(result.stdout) == {table: len(seeded.doomed[table]) for table in TABLES} | webhooks
        async with database.sessions() as session:
            assert await primary_keys(session) == seeded.kept
        assert await last_run(database.sessions, PURGE_EXPIRED) is not None  # counts as the interval's run

        again = gateway("tokens", "purge", env=env)
        assert again.returncode == 0, again.stderr
        assert again.stdout.splitlines() == [
            "deleted 0 expired authorization requests",
            "deleted 0 expired authorization codes",
            "deleted 0 expired refresh tokens",
            "deleted 0 expired access-token rows",
            "deleted 0 webhook messages finished over 30 days ago",
            "deleted 0 retired webhook secrets",
            "deleted 0 webhook endpoint states of deleted apps",
            "deleted 0 sealed chunks of exports downloaded, expired or failed",
        ]


async def test_an_unmigrated_database_is_a_one_line_error(tmp_path: Path) -> None:
    async with throwaway_database(tmp_path) as url:
        result = gateway(
            "tokens", "purge", env={"GATEWAY_DATABASE_URL": url, "GATEWAY_DATA_DIR": str(tmp_path)}
        )
    assert result.returncode == 1
    assert result.stderr == "gateway: the database is not migrated: run `gateway migrate` first\n"
