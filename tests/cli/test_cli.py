"""The `gateway` command as an operator runs it: clear one-line failures, idempotent migrations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.cli import gateway
from tests.support.databases import backend, throwaway_database
from tests.support.paths import REPO


@pytest.mark.parametrize(
    ("variable", "value"),
    [("GATEWAY_ISSUER", "not a url"), ("GATEWAY_MASTER_KEY", "c2hvcnQ="), ("GATEWAY_PORT", "port")],
)
@pytest.mark.parametrize("command", ["serve", "migrate", "demo"])
def test_a_bad_setting_stops_with_one_line_and_status_2(
    command: str, variable: str, value: str, tmp_path: Path
) -> None:
    result = gateway(command, env={variable: value, "GATEWAY_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.startswith(f"gateway: {variable}: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert "c2hvcnQ=" not in result.stderr


def test_production_without_a_master_key(tmp_path: Path) -> None:
    result = gateway(
        "serve",
        env={
            "GATEWAY_ENVIRONMENT": "production",
            "GATEWAY_ISSUER": "https://gw.example.org",
            "GATEWAY_DATA_DIR": str(tmp_path),
        },
    )
    assert result.returncode == 2
    assert result.stderr == "gateway: GATEWAY_MASTER_KEY is required when GATEWAY_ENVIRONMENT=production\n"


@pytest.mark.parametrize("command", [["serve"], ["migrate"], ["migrate", "--check"]])
def test_an_unreachable_database_is_a_clear_error(command: list[str], tmp_path: Path) -> None:
    result = gateway(
        *command,
        env={
            "GATEWAY_DATABASE_URL": "postgresql+asyncpg://postgres:pw-not-shown@127.0.0.1:1/gateway",
            "GATEWAY_DATA_DIR": str(tmp_path),
            "GATEWAY_DB_CONNECT_TIMEOUT_SECONDS": "1",
        },
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith(
        "gateway: cannot reach the database at postgresql+asyncpg://postgres:***@"
    )
    assert "pw-not-shown" not in result.stderr
    assert "Traceback" not in result.stderr


async def test_migrate_twice_then_check(tmp_path: Path, master_key_b64: str) -> None:
    async with throwaway_database(tmp_path) as url:
        env = {
            "GATEWAY_DATABASE_URL": url,
            "GATEWAY_MASTER_KEY": master_key_b64,
            "GATEWAY_DATA_DIR": str(tmp_path),
        }
        before = gateway("migrate", "--check", env=env)
        assert before.returncode == 1
        assert "database is at no revision" in before.stderr
        for _ in range(2):
            result = gateway("migrate", env=env)
            assert result.returncode == 0, result.stderr
            assert "database migrated to" in result.stdout
        after = gateway("migrate", "--check", env=env)
        assert after.returncode == 0
        assert "latest migration" in after.stdout


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    if backend() == "postgresql":
        pytest.skip("the SQLite file case covers the check; PostgreSQL runs in test_migrate_twice_then_check")
    result = gateway("serve", env={"GATEWAY_DATA_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert (
        result.stderr.splitlines()[-1] == "gateway: the database is not migrated: run `gateway migrate` first"
    )


def test_openapi_check_passes_on_the_committed_file() -> None:
    result = gateway("openapi", "--check")
    assert result.returncode == 0, result.stderr


def test_openapi_writes_deterministically_and_detects_drift(tmp_path: Path) -> None:
    target = tmp_path / "openapi.json"
    assert gateway("openapi", "--output", str(target)).returncode == 0
    first = target.read_text()
    assert gateway("openapi", "--output", str(target)).returncode == 0
    assert target.read_text() == first
    assert first == (REPO / "openapi" / "openapi.json").read_text()
    target.write_text(first.replace('"The gateway"', '"Something else"'))
    drifted = gateway("openapi", "--check", "--output", str(target))
    assert drifted.returncode == 1
    assert "out of date" in drifted.stderr


def test_demo_loads_a_school_and_prints_what_to_try(tmp_path: Path) -> None:
    if backend() == "postgresql":
        pytest.skip("the demo's default is the embedded SQLite database")
    env = {"GATEWAY_DATA_DIR": str(tmp_path)}
    result = gateway("demo", "--no-serve", "--students", "20", "--port", "8123", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "http://127.0.0.1:8123/docs" in result.stdout
    assert re.search(r"^\s+students\s+20$", result.stdout, flags=re.MULTILINE)
    key = next(line.strip() for line in result.stdout.splitlines() if line.strip().startswith("gw_ck_"))
    status_url = "http://127.0.0.1:8123/connector/v1/status"
    assert f'curl -H "Authorization: Bearer {key}" {status_url}' in result.stdout
    assert re.search(r"^\s+email\s+admin@urn\d{6}\.example\.org$", result.stdout, flags=re.MULTILINE)
    assert re.search(r"^\s+password\s+Demo-\S+", result.stdout, flags=re.MULTILINE)
    assert (tmp_path / "gateway.db").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "master.key").stat().st_mode & 0o777 == 0o600
    assert "generated a development master key" in result.stderr
    again = gateway("demo", "--no-serve", "--students", "20", env=env, cwd=tmp_path)
    assert again.returncode == 0
    assert "generated a development master key" not in again.stderr
    school_line = next(line for line in result.stdout.splitlines() if "school id" in line)
    assert school_line in again.stdout  # the same school, not a second one


def test_demo_rejects_bad_options(tmp_path: Path) -> None:
    for args in (["--students", "0"], ["--students", "999999"], ["--seed", "x"], ["--port", "http"]):
        result = gateway("demo", "--no-serve", *args, env={"GATEWAY_DATA_DIR": str(tmp_path)}, cwd=tmp_path)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
