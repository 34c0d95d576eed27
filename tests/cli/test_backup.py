"""`gateway backup create` and `gateway backup restore` on the run's database, as an operator runs them: a
demo school backed up, restored into an empty database and checked; refusals for a non-empty target, an
existing output file and a damaged backup."""

from __future__ import annotations

import base64
import json
import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import async_sessionmaker

from gateway.apps.models import App
from gateway.backup.archive import libpq_environment, manifest_path
from gateway.consent.models import Grant
from gateway.db.engine import create_engine
from gateway.keys.keyring import Keyring
from gateway.schools.models import School
from gateway.settings import Settings
from tests.support.cli import gateway
from tests.support.data_api import fetch_all
from tests.support.databases import backend, postgres_admin_url, throwaway_database, throwaway_postgres
from tests.support.server import gateway_server
from tests.support.world import World


@dataclass(frozen=True)
class Backup:
    file: Path
    manifest: dict[str, object]
    master_key: str
    seconds: float


def database_env(url: str, master_key: str, data_dir: Path) -> dict[str, str]:
    return {"GATEWAY_DATABASE_URL": url, "GATEWAY_MASTER_KEY": master_key, "GATEWAY_DATA_DIR": str(data_dir)}


@pytest.fixture(scope="module")
async def backup(tmp_path_factory: pytest.TempPathFactory, master_key_b64: str) -> AsyncIterator[Backup]:
    """A 12-pupil demo school in a database of this run's backend, backed up once for the module."""
    directory = tmp_path_factory.mktemp("backup-source")
    async with throwaway_database(directory) as url:
        env = database_env(url, master_key_b64, directory)
        loaded = gateway("demo", "--no-serve", "--students", "12", env=env, cwd=directory)
        assert loaded.returncode == 0, loaded.stderr
        file = directory / "gateway.backup"
        started = time.monotonic()
        created = gateway("backup", "create", "--output", str(file), "--json", env=env)
        seconds = time.monotonic() - started
        assert created.returncode == 0, created.stderr
        yield Backup(file, json.loads(created.stdout), master_key_b64, seconds)


async def test_backup_restores_into_an_empty_database_and_checks_out(backup: Backup, tmp_path: Path) -> None:
    assert backup.manifest["kind"] == backend()
    assert backup.file.stat().st_mode & 0o777 == 0o600
    assert manifest_path(backup.file).stat().st_mode & 0o777 == 0o600
    on_disk = json.loads(manifest_path(backup.file).read_text())
    counts = on_disk["counts"]
    assert counts == backup.manifest["counts"]
    assert counts["schools"] == 1
    assert counts["school_keys"] == 1
    assert counts["mis_records"] > 12
    magic = b"PGDMP" if backend() == "postgresql" else b"SQLite format 3\x00"
    assert backup.file.read_bytes().startswith(magic)

    async with throwaway_database(tmp_path) as url:
        env = database_env(url, backup.master_key, tmp_path)
        started = time.monotonic()
        restored = gateway("backup", "restore", "--input", str(backup.file), "--json", env=env)
        seconds = time.monotonic() - started
        assert restored.returncode == 0, restored.stderr
        result = json.loads(restored.stdout)
        assert result["ok"] is True
        assert result["counts"] == counts
        assert result["at_head"] is True
        assert result["schools"] == 1
        assert result["school_keys"] == 1
        assert result["broken_chains"] == result["unreadable_keys"] == result["failures"] == []
        verified = gateway("audit", "verify", "--json", env=env)
        assert verified.returncode == 0, verified.stderr
        assert json.loads(verified.stdout)["ok"] is True
        again = gateway("backup", "restore", "--input", str(backup.file), env=env)
        assert again.returncode == 1
        assert "restore only into an empty database" in again.stderr
    print(f"\n{backend()}: backup {backup.seconds:.2f}s, restore and check {seconds:.2f}s (whole commands)")


async def test_restore_refuses_a_migrated_but_empty_database(backup: Backup, tmp_path: Path) -> None:
    async with throwaway_database(tmp_path) as url:
        env = database_env(url, backup.master_key, tmp_path)
        assert gateway("migrate", env=env).returncode == 0
        refused = gateway("backup", "restore", "--input", str(backup.file), env=env)
        assert refused.returncode == 1
        assert refused.stderr.startswith("gateway: the database ")
        assert "not empty" in refused.stderr
        assert "Traceback" not in refused.stderr


async def test_a_changed_byte_fails_the_checksum_and_restores_nothing(backup: Backup, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.backup"
    shutil.copyfile(backup.file, damaged)
    shutil.copyfile(manifest_path(backup.file), manifest_path(damaged))
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0x01
    damaged.write_bytes(bytes(data))
    async with throwaway_database(tmp_path) as url:
        env = database_env(url, backup.master_key, tmp_path)
        refused = gateway("backup", "restore", "--input", str(damaged), env=env)
        assert refused.returncode == 1
        assert "does not match its manifest's SHA-256" in refused.stderr
        # Nothing was restored: the database is still empty, so a good backup restores into it.
        restored = gateway("backup", "restore", "--input", str(backup.file), env=env)
        assert restored.returncode == 0, restored.stderr


async def test_a_missing_manifest_is_refused(backup: Backup, tmp_path: Path) -> None:
    alone = tmp_path / "alone.backup"
    shutil.copyfile(backup.file, alone)
    async with throwaway_database(tmp_path) as url:
        refused = gateway(
            "backup", "restore", "--input", str(alone), env=database_env(url, backup.master_key, tmp_path)
        )
    assert refused.returncode == 1
    assert f"the manifest {manifest_path(alone)} is missing" in refused.stderr


async def test_another_master_key_restores_but_fails_the_key_check(
    backup: Backup, tmp_path: Path, master_key_b64: str
) -> None:
    other = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="  # 32 bytes of "A", not the backup's key
    assert other != master_key_b64
    async with throwaway_database(tmp_path) as url:
        restored = gateway(
            "backup", "restore", "--input", str(backup.file), env=database_env(url, other, tmp_path)
        )
    assert restored.returncode == 1
    assert "1 school data key(s) do not unwrap with the configured master key" in restored.stderr
    assert "school data keys unwrap: FAILED" in restored.stdout


async def test_create_refuses_to_overwrite(backup: Backup, tmp_path: Path) -> None:
    async with throwaway_database(tmp_path) as url:
        env = database_env(url, backup.master_key, tmp_path)
        assert gateway("migrate", env=env).returncode == 0
        existing = tmp_path / "existing.backup"
        existing.write_bytes(b"keep me")
        refused = gateway("backup", "create", "--output", str(existing), env=env)
        assert refused.returncode == 1
        assert refused.stderr == f"gateway: {existing} already exists: a backup never overwrites a file\n"
        assert existing.read_bytes() == b"keep me"
        assert not manifest_path(existing).exists()
        sidecar_only = tmp_path / "sidecar-only.backup"
        manifest_path(sidecar_only).write_text("{}")
        refused = gateway("backup", "create", "--output", str(sidecar_only), env=env)
        assert refused.returncode == 1
        assert not sidecar_only.exists()


@pytest.mark.postgres_only
async def test_a_postgresql_backup_does_not_restore_into_sqlite(backup: Backup, tmp_path: Path) -> None:
    target = tmp_path / "target.db"
    refused = gateway(
        "backup",
        "restore",
        "--input",
        str(backup.file),
        env=database_env(f"sqlite+aiosqlite:///{target}", backup.master_key, tmp_path),
    )
    assert refused.returncode == 1
    assert "is a postgresql backup; the configured database is sqlite" in refused.stderr


@pytest.mark.postgres_only
async def test_restore_into_a_database_with_any_table_is_refused(backup: Backup, tmp_path: Path) -> None:
    async with throwaway_postgres(postgres_admin_url()) as url:
        connection = await asyncpg.connect(
            make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        )
        try:
            await connection.execute("CREATE TABLE unrelated (id int)")
        finally:
            await connection.close()
        refused = gateway(
            "backup",
            "restore",
            "--input",
            str(backup.file),
            env=database_env(url, backup.master_key, tmp_path),
        )
    assert refused.returncode == 1
    assert "is not empty (1 tables)" in refused.stderr


def test_the_password_goes_in_the_environment_not_the_arguments() -> None:
    url = make_url("postgresql+asyncpg://gw:s3cret@db.internal:6543/gateway?ssl=require")
    arguments, env = libpq_environment(url)
    assert arguments == ["--no-password", "--host=db.internal", "--port=6543", "--username=gw"]
    assert not any("s3cret" in argument for argument in arguments)
    assert env["PGPASSWORD"] == "s3cret"
    assert env["PGSSLMODE"] == "require"


LISTINGS = ("/api/v1/students", "/api/v1/groups")  # what the grant (tests.support.world.SCOPES) opens


async def _pages(env: dict[str, str], url: str, master_key: str) -> dict[str, list[dict[str, object]]]:
    """Every page of three listings through a real server on `url`, read with a school token minted for it."""
    with gateway_server(env) as server:
        engine = create_engine(Settings(database_url=url))
        try:
            async with async_sessionmaker(engine, expire_on_commit=False)() as session:
                world = World(session, Keyring(base64.b64decode(master_key)), server.base_url)
                school = await session.scalar(select(School))
                app = await session.scalar(select(App).where(App.name == "Restore check"))
                if app is None:  # on the source: an app, and the school's grant to it, go into the backup
                    app = await world.app("Restore check")
                    assert school is not None
                    await world.grant(school, app)
                grant = await session.scalar(select(Grant).where(Grant.app_id == app.id))
                assert grant is not None
                token = (await world.school_token(app, grant)).token
        finally:
            await engine.dispose()
        headers = {"authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            pages = {path: await fetch_all(client, path, headers, limit=5) for path in LISTINGS}
            school = await client.get("/api/v1/school", headers=headers)
            assert school.status_code == 200, school.text[:300]
            return {**pages, "/api/v1/school": [school.json()]}


async def test_a_restored_database_serves_the_same_pages(tmp_path: Path, master_key_b64: str) -> None:
    source_dir, target_dir = tmp_path / "source", tmp_path / "target"
    source_dir.mkdir()
    target_dir.mkdir()
    async with throwaway_database(source_dir) as source:
        env = database_env(source, master_key_b64, source_dir)
        assert gateway("demo", "--no-serve", "--students", "12", env=env, cwd=source_dir).returncode == 0
        before = await _pages(env, source, master_key_b64)
        file = source_dir / "gateway.backup"
        assert gateway("backup", "create", "--output", str(file), env=env).returncode == 0
        async with throwaway_database(target_dir) as target:
            target_env = database_env(target, master_key_b64, target_dir)
            restored = gateway("backup", "restore", "--input", str(file), env=target_env)
            assert restored.returncode == 0, restored.stderr
            verified = gateway("audit", "verify", env=target_env)
            assert verified.returncode == 0, verified.stderr
            after = await _pages(target_env, target, master_key_b64)
    assert len(before["/api/v1/students"]) == 12
    assert after == before
