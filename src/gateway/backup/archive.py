"""Write a backup of the configured database, and restore one into an empty database.

A backup is one file plus a JSON manifest beside it, `FILE.manifest.json`: the kind of database, the schema
revision, when it was made, the SHA-256 of the backup file and the row count of every gateway table at the
moment the copy was taken. PostgreSQL backups are `pg_dump --format=custom` archives (they start `PGDMP`),
taken in the same snapshot the counts are read in; SQLite backups are copies made by the online backup API
(they start `SQLite format 3\\0`). Both hold everything, encrypted records and wrapped keys alike, so the
files are created mode 0600 and never overwritten. The master key is not in a backup.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import func, inspect, literal, select, table, text, union_all
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.db.base import utcnow

POSTGRESQL = "postgresql"
SQLITE = "sqlite"
MAGIC = {POSTGRESQL: b"PGDMP", SQLITE: b"SQLite format 3\x00"}
MANIFEST_SUFFIX = ".manifest.json"
MANIFEST_FORMAT = 1
_CHUNK = 1 << 20


class BackupError(Exception):
    """A backup or restore that cannot go ahead, or failed: the message says why, for the operator."""


@dataclass(frozen=True)
class Manifest:
    kind: str
    revision: str | None
    created_at: datetime
    sha256: str
    size: int
    counts: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT,
            "kind": self.kind,
            "revision": self.revision,
            "created_at": self.created_at.isoformat(),
            "sha256": self.sha256,
            "size": self.size,
            "counts": self.counts,
        }

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        try:
            if data["format"] != MANIFEST_FORMAT or data["kind"] not in MAGIC:
                raise ValueError
            return cls(
                kind=data["kind"],
                revision=data["revision"],
                created_at=datetime.fromisoformat(data["created_at"]),
                sha256=str(data["sha256"]),
                size=int(data["size"]),
                counts={str(name): int(rows) for name, rows in data["counts"].items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise BackupError("the manifest is not one `gateway backup create` wrote") from None


def manifest_path(backup: Path) -> Path:
    return backup.with_name(backup.name + MANIFEST_SUFFIX)


def kind_of(database_url: str) -> str:
    return SQLITE if make_url(database_url).get_backend_name() == "sqlite" else POSTGRESQL


# --- counting -------------------------------------------------------------------------------------------


def _count_query(tables: list[str]) -> sqlalchemy.CompoundSelect[str, int]:
    return union_all(
        *(
            select(literal(name).label("name"), func.count().label("rows")).select_from(table(name))
            for name in sorted(tables)
        )
    )


def _sync_counts(connection: Connection) -> dict[str, int]:
    """Table name → rows, for every table in the database (the gateway's, and Alembic's revision table)."""
    tables = inspect(connection).get_table_names()
    if not tables:
        return {}
    return {str(name): int(rows) for name, rows in connection.execute(_count_query(tables)).all()}


async def row_counts(connection: AsyncConnection) -> dict[str, int]:
    return await connection.run_sync(_sync_counts)


# --- create ---------------------------------------------------------------------------------------------


def _create_exclusive(path: Path) -> int:
    """Open a new file, mode 0600, refusing one that exists."""
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupError(f"{path} already exists: a backup never overwrites a file") from None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _write_manifest(backup: Path, manifest: Manifest) -> None:
    fd = _create_exclusive(manifest_path(backup))
    with os.fdopen(fd, "w") as out:
        json.dump(manifest.as_json(), out, indent=2, sort_keys=True)
        out.write("\n")


async def create_backup(engine: AsyncEngine, database_url: str, output: Path) -> Manifest:
    """Back up the database behind `engine` (at `database_url`) into `output` and its manifest."""
    await asyncio.to_thread(_claim, output)
    try:
        if kind_of(database_url) == SQLITE:
            revision, counts = await asyncio.to_thread(_sqlite_backup, _sqlite_path(database_url), output)
            kind = SQLITE
        else:
            revision, counts = await _postgres_backup(engine, make_url(database_url), output)
            kind = POSTGRESQL
        return await asyncio.to_thread(_finish, output, kind, revision, counts)
    except BaseException:
        await asyncio.to_thread(output.unlink, missing_ok=True)
        raise


def _claim(output: Path) -> None:
    """Create the (empty) backup file, mode 0600, refusing to overwrite it or its manifest."""
    sidecar = manifest_path(output)
    if sidecar.exists():
        raise BackupError(f"{sidecar} already exists: a backup never overwrites a file")
    os.close(_create_exclusive(output))


def _finish(output: Path, kind: str, revision: str | None, counts: dict[str, int]) -> Manifest:
    manifest = Manifest(
        kind=kind,
        revision=revision,
        created_at=utcnow(),
        sha256=_sha256(output),
        size=output.stat().st_size,
        counts=counts,
    )
    _write_manifest(output, manifest)
    return manifest


def _sqlite_path(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _sqlite_backup(source_path: Path, output: Path) -> tuple[str | None, dict[str, int]]:
    if not source_path.is_file():
        raise BackupError(f"there is no database at {source_path}")
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    try:
        target = sqlite3.connect(output)
        try:
            source.backup(target)
            # One self-contained file: no write-ahead log beside it.
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
    finally:
        source.close()
    return _sqlite_contents(output)


def _sqlite_contents(path: Path) -> tuple[str | None, dict[str, int]]:
    """The schema revision and row counts of an SQLite file, read only."""
    engine = sqlalchemy.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        with engine.connect() as connection:
            return _sync_revision(connection), _sync_counts(connection)
    except sqlalchemy.exc.OperationalError:
        raise BackupError("the database has no gateway schema: run `gateway migrate` first") from None
    finally:
        engine.dispose()


def _sync_revision(connection: Connection) -> str | None:
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def libpq_environment(url: URL) -> tuple[list[str], dict[str, str]]:
    """Connection options for pg_dump/pg_restore from a SQLAlchemy URL: arguments, and the environment that
    carries the password (never the command line, where any local user could read it)."""
    arguments = ["--no-password"]
    if url.host:
        arguments.append(f"--host={url.host}")
    if url.port:
        arguments.append(f"--port={url.port}")
    if url.username:
        arguments.append(f"--username={url.username}")
    env = dict(os.environ)
    env.pop("PGPASSWORD", None)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    ssl = url.query.get("sslmode") or url.query.get("ssl")
    if isinstance(ssl, str):
        env["PGSSLMODE"] = {"true": "require", "false": "disable"}.get(ssl.lower(), ssl)
    return arguments, env


def _database(url: URL) -> list[str]:
    return [] if not url.database else [f"--dbname={url.database}"]


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (or not on PATH): install the PostgreSQL client tools")
    return found


async def _run_tool(command: list[str], env: dict[str, str], stdout: int | None = None) -> None:
    process = await asyncio.create_subprocess_exec(
        *command,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=stdout if stdout is not None else asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, errors = await process.communicate()
    if process.returncode != 0:
        reason = errors.decode(errors="replace").strip().splitlines()
        last = reason[-1] if reason else f"exit status {process.returncode}"
        raise BackupError(f"{Path(command[0]).name} failed: {last}")


async def _postgres_backup(engine: AsyncEngine, url: URL, output: Path) -> tuple[str | None, dict[str, int]]:
    """pg_dump in the snapshot the row counts are read in, so the counts describe exactly the dump."""
    pg_dump = _tool("pg_dump")
    arguments, env = libpq_environment(url)
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="REPEATABLE READ")
        async with connection.begin():
            snapshot = (await connection.execute(text("SELECT pg_export_snapshot()"))).scalar_one()
            revision = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar()
            counts = await row_counts(connection)
            with output.open("wb") as out:
                await _run_tool(
                    [
                        pg_dump,
                        *arguments,
                        "--format=custom",
                        f"--snapshot={snapshot}",
                        *_database(url),
                    ],
                    env,
                    stdout=out.fileno(),
                )
    return revision, counts


# --- restore --------------------------------------------------------------------------------------------


def read_manifest(backup: Path) -> Manifest:
    """The backup's manifest, once its file's size and SHA-256 match it and its first bytes its kind."""
    sidecar = manifest_path(backup)
    if not backup.is_file():
        raise BackupError(f"there is no backup at {backup}")
    try:
        data = json.loads(sidecar.read_text())
    except FileNotFoundError:
        raise BackupError(f"the manifest {sidecar} is missing: it must sit beside the backup") from None
    except (OSError, ValueError):
        raise BackupError(f"the manifest {sidecar} cannot be read") from None
    manifest = Manifest.from_json(data)
    if backup.stat().st_size != manifest.size or _sha256(backup) != manifest.sha256:
        raise BackupError(f"{backup} does not match its manifest's SHA-256: the file is damaged or altered")
    with backup.open("rb") as head:
        if not head.read(len(MAGIC[manifest.kind])) == MAGIC[manifest.kind]:
            raise BackupError(f"{backup} is not a {manifest.kind} backup")
    return manifest


async def restore_backup(engine: AsyncEngine, database_url: str, backup: Path) -> Manifest:
    """Restore `backup` into the empty database behind `engine`; checking it is `check.check_restored`."""
    manifest = await asyncio.to_thread(read_manifest, backup)
    target = kind_of(database_url)
    if manifest.kind != target:
        raise BackupError(f"{backup} is a {manifest.kind} backup; the configured database is {target}")
    if target == SQLITE:
        await asyncio.to_thread(_sqlite_restore, backup, _sqlite_path(database_url))
    else:
        await _postgres_restore(engine, make_url(database_url), backup)
    return manifest


def _sqlite_restore(backup: Path, target_path: Path) -> None:
    for path in (target_path, target_path.with_name(target_path.name + "-wal")):
        if path.exists() and path.stat().st_size > 0:
            raise BackupError(f"the database {target_path} is not empty: restore only into an empty database")
    target_path.parent.mkdir(parents=True, exist_ok=True)
    if not target_path.exists():
        os.close(os.open(target_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        target = sqlite3.connect(target_path)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


async def _postgres_restore(engine: AsyncEngine, url: URL, backup: Path) -> None:
    pg_restore = _tool("pg_restore")
    async with engine.connect() as connection:
        tables = (
            await connection.execute(
                text(
                    "SELECT count(*) FROM pg_catalog.pg_tables "
                    "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
                )
            )
        ).scalar_one()
    if tables:
        raise BackupError(
            f"the database {url.database} is not empty ({tables} tables): restore only into an empty database"
        )
    arguments, env = libpq_environment(url)
    await _run_tool(
        [
            pg_restore,
            *arguments,
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            *_database(url),
            str(backup),
        ],
        env,
    )
