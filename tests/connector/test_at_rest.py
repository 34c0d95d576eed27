"""End to end through the CLI and a real server: data at rest, master-key rotation, killed transactions."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import async_sessionmaker

from gateway.db.engine import create_engine
from gateway.keys.envelope import open_sealed, record_context
from gateway.keys.keyring import Keyring
from gateway.mis.ingest import apply_batch
from gateway.mis.models import MisRecordRow
from gateway.mis.validation import validate_batch
from gateway.schools.models import School
from gateway.settings import Settings
from tests.support.at_rest import everything_stored
from tests.support.cli import gateway
from tests.support.databases import backend, migrated_database, throwaway_database
from tests.support.records import school_record, students
from tests.support.server import gateway_server


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


async def test_at_rest_and_master_key_rotation(tmp_path: Path) -> None:
    async with throwaway_database(tmp_path) as url:
        old_key = new_key()
        env = {"GATEWAY_DATABASE_URL": url, "GATEWAY_MASTER_KEY": old_key, "GATEWAY_DATA_DIR": str(tmp_path)}
        assert gateway("migrate", env=env).returncode == 0
        created = gateway(
            "school",
            "create",
            "--urn",
            "123456",
            "--name",
            "Rotation Academy",
            "--la-code",
            "201",
            "--establishment-number",
            "4001",
            "--json",
            env=env,
        )
        assert created.returncode == 0, created.stderr
        school = json.loads(created.stdout)
        issued = gateway("connector", "create-key", "--school", "123456", "--json", env=env)
        assert issued.returncode == 0, issued.stderr
        token = json.loads(issued.stdout)["key"]
        assert token.startswith("gw_ck_")
        assert set(json.loads(issued.stdout)) == {"school_id", "prefix", "key"}
        batch = students(20)

        headers = {"authorization": f"Bearer {token}"}
        with gateway_server({**env, "GATEWAY_LOG_LEVEL": "WARNING"}) as server:
            async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=30) as http:
                response = await http.post("/connector/v1/students/batch", json={"upsert": batch})
                assert response.status_code == 200, response.text
                response = await http.post(
                    "/connector/v1/school/batch", json={"upsert": [school_record("123456")]}
                )
                assert response.status_code == 200, response.text

        data_file = Path(url.removeprefix("sqlite+aiosqlite:///")) if backend() == "sqlite" else None
        stored = await everything_stored(url, data_file)
        for record in batch:
            for field in ("first_name", "last_name", "upn", "dob"):
                assert str(record[field]) not in stored, field

        rotated_key = new_key()
        missing = gateway("keys", "rotate-master", env=env)
        assert missing.returncode == 1
        assert "GATEWAY_NEW_MASTER_KEY" in missing.stderr
        rotated = gateway("keys", "rotate-master", env={**env, "GATEWAY_NEW_MASTER_KEY": rotated_key})
        assert rotated.returncode == 0, rotated.stderr
        # One school; the server secrets are however many features have made so far (each is re-wrapped).
        assert re.search(r"re-wrapped 1 school data keys and \d+ server secrets", rotated.stdout)

        stale = gateway("serve", env=env)
        assert stale.returncode == 1
        assert "GATEWAY_MASTER_KEY does not match" in stale.stderr.splitlines()[-1]

        new_env = {**env, "GATEWAY_MASTER_KEY": rotated_key, "GATEWAY_LOG_LEVEL": "WARNING"}
        with gateway_server(new_env) as server:
            async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=30) as http:
                status = await http.get("/connector/v1/status")
            assert status.status_code == 200
            assert status.json()["resources"]["students"]["records"] == 20
            assert status.json()["school_id"] == school["id"]

        engine = create_engine(Settings(database_url=url))
        try:
            async with async_sessionmaker(engine)() as session:
                row = await session.scalar(select(MisRecordRow).where(MisRecordRow.record_id == "stu-00003"))
                assert row is not None
                assert row.key_id is not None
                assert row.sealed is not None
                key = await Keyring(base64.b64decode(rotated_key)).key(session, row.school_id, row.key_id)
                opened = json.loads(
                    open_sealed(
                        key,
                        row.sealed,
                        record_context(str(row.school_id), "students", "stu-00003", str(row.key_id)),
                    )
                )
                assert opened["upn"] == batch[3]["upn"]
        finally:
            await engine.dispose()


@pytest.mark.postgres_only
async def test_a_transaction_killed_mid_batch_leaves_nothing(tmp_path: Path) -> None:
    async with migrated_database(tmp_path) as database:
        school = await database.school("654321", "Killed Academy")
        batch = validate_batch("students", students(2000), [], today=date.today())
        victim = database.sessions()
        try:
            await apply_batch(victim, Keyring(os.urandom(32)), school, batch)  # written, not committed
            pid = (await victim.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            async with database.engine.connect() as killer:
                await killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(DBAPIError):
                await victim.commit()
        finally:
            with contextlib.suppress(DBAPIError):
                await victim.close()
        async with database.sessions() as check:
            assert await check.scalar(select(func.count()).select_from(MisRecordRow)) == 0
            assert await check.scalar(select(School.change_seq).where(School.urn == "654321")) == 0
