"""The built wheel carries the migrations, so `gateway migrate` works from an install, not only a checkout."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import zipfile
from contextlib import closing
from pathlib import Path

import pytest

from gateway.db import migrations
from tests.support.databases import backend
from tests.support.paths import REPO

pytestmark = pytest.mark.skipif(
    backend() == "postgresql", reason="packaging does not depend on the database: the SQLite pass covers it"
)

# `python -c RUN_FROM_WHEEL UNPACKED ARGS…`: the unpacked wheel goes first on sys.path, ahead of the editable
# install; the script checks that both the command and the migrations come from it, then runs `gateway ARGS…`.
RUN_FROM_WHEEL = """
import sys
from pathlib import Path

unpacked, *args = sys.argv[1:]
sys.path.insert(0, unpacked)

import gateway.cli
from gateway.db.migrations import migrations_dir

assert Path(gateway.cli.__file__).is_relative_to(unpacked), gateway.cli.__file__
assert migrations_dir() == Path(unpacked, "gateway", "migrations"), migrations_dir()
gateway.cli.main(args, prog_name="gateway")
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project built as a wheel, the way an operator's `pip install .` builds it (hatchling)."""
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "--wheel-dir",
            str(out),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (built,) = out.glob("gateway-*.whl")
    return built


def _migration_files() -> set[str]:
    source = REPO / "migrations"
    return {
        path.relative_to(source).as_posix()
        for path in source.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_the_wheel_carries_every_migration_inside_the_package(wheel: Path) -> None:
    expected = _migration_files()
    assert {"env.py", "script.py.mako"} <= expected
    assert any(name.startswith("versions/") for name in expected)
    with zipfile.ZipFile(wheel) as archive:
        packaged = {
            name.removeprefix("gateway/migrations/")
            for name in archive.namelist()
            if name.startswith("gateway/migrations/")
        }
    assert packaged == expected


def test_gateway_migrate_runs_from_the_unpacked_wheel(wheel: Path, tmp_path: Path) -> None:
    unpacked = tmp_path / "site-packages"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(unpacked)
    elsewhere = tmp_path / "elsewhere"  # no migrations/ here or above: only the wheel's copy can be found
    elsewhere.mkdir()
    database = tmp_path / "gateway.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")} | {
        "GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "GATEWAY_DATA_DIR": str(tmp_path / "data"),
    }

    def gateway(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", RUN_FROM_WHEEL, str(unpacked), *args],
            cwd=elsewhere,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    head = migrations.head_revision()
    migrated = gateway("migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.startswith(f"database migrated to {head} (sqlite+aiosqlite:///")
    checked = gateway("migrate", "--check")
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout == f"database is at the latest migration ({head})\n"
    with closing(sqlite3.connect(database)) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [(head,)]
