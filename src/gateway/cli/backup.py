"""`gateway backup create` and `gateway backup restore`: a whole-database copy, and putting one back into an
empty database with a check that it is whole (SPEC §9). The work is in `gateway.backup`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from gateway.audit import events
from gateway.audit.events import EventType
from gateway.audit.rotations import record_everywhere
from gateway.backup.archive import BackupError, Manifest, create_backup, manifest_path, restore_backup
from gateway.backup.check import RestoreCheck, check_restored
from gateway.cli.common import CommandFailed, command_settings, emit, fail_cleanly, run_unbounded
from gateway.db import migrations
from gateway.db.base import utcnow
from gateway.keys.master import resolve_master_key


@click.group()
def backup() -> None:
    """Whole-database backups."""


@backup.command("create")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Write the backup here (mode 0600, never over an existing file), its manifest beside it.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@fail_cleanly
def backup_create(output: Path, as_json: bool) -> None:
    """Back up the configured database: pg_dump's custom format on PostgreSQL, the online backup API on
    SQLite. The backup holds every record (encrypted) and every wrapped key, but not the master key."""
    settings = command_settings()
    url = settings.resolved_database_url

    async def work(engine: AsyncEngine) -> Manifest:
        if not await migrations.is_at_head(engine):
            raise CommandFailed("the database is not migrated: run `gateway migrate` first")
        manifest = await create_backup(engine, url, output)
        async with async_sessionmaker(engine, expire_on_commit=False).begin() as session:
            details = {"kind": manifest.kind, "sha256": manifest.sha256}
            await record_everywhere(session, EventType.BACKUP_CREATED, events.OPERATOR, details, utcnow())
        return manifest

    started = time.monotonic()
    try:
        manifest = run_unbounded(settings, work)
    except BackupError as exc:
        raise CommandFailed(str(exc)) from None
    seconds = round(time.monotonic() - started, 2)
    rows = sum(manifest.counts.values())
    emit(
        as_json,
        {
            "output": str(output),
            "manifest": str(manifest_path(output)),
            "seconds": seconds,
            **manifest.as_json(),
        },
        [
            f"backed up the {manifest.kind} database ({rows} rows in {len(manifest.counts)} tables, "
            f"{manifest.size} bytes) to {output} in {seconds}s",
            f"manifest: {manifest_path(output)} (sha256 {manifest.sha256})",
            "the master key is not in the backup: keep it separately",
        ],
    )


@backup.command("restore")
@click.option(
    "--input",
    "backup_file",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The backup to restore; its manifest (FILE.manifest.json) must sit beside it.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@fail_cleanly
def backup_restore(backup_file: Path, as_json: bool) -> None:
    """Restore a backup into the configured database, which must be empty, then check it: schema at the
    latest migration, every school's authorisation log verifies, every school data key unwraps with the
    configured master key, and every table's row count equals the backup's. Exit 1 naming what failed."""
    settings = command_settings()
    url = settings.resolved_database_url
    master_key = resolve_master_key(settings)

    async def work(engine: AsyncEngine) -> tuple[Manifest, RestoreCheck]:
        manifest = await restore_backup(engine, url, backup_file)
        return manifest, await check_restored(engine, master_key, manifest)

    started = time.monotonic()
    try:
        manifest, check = run_unbounded(settings, work)
    except BackupError as exc:
        raise CommandFailed(str(exc)) from None
    seconds = round(time.monotonic() - started, 2)
    emit(
        as_json,
        _as_json(backup_file, manifest, check, seconds),
        _as_lines(backup_file, manifest, check, seconds),
    )
    if not check.ok:
        raise CommandFailed(f"restored {backup_file}, but the check failed: {'; '.join(check.failures())}")


def _as_json(backup_file: Path, manifest: Manifest, check: RestoreCheck, seconds: float) -> dict[str, Any]:
    return {
        "ok": check.ok,
        "input": str(backup_file),
        "kind": manifest.kind,
        "created_at": manifest.created_at.isoformat(),
        "seconds": seconds,
        "revision": check.revision,
        "at_head": check.at_head,
        "schools": check.schools,
        "broken_chains": check.broken_chains,
        "school_keys": check.school_keys,
        "unreadable_keys": check.unreadable_keys,
        "counts": check.counts,
        "count_mismatches": {t: {"backup": b, "restored": a} for t, (b, a) in check.count_mismatches.items()},
        "failures": check.failures(),
    }


def _as_lines(backup_file: Path, manifest: Manifest, check: RestoreCheck, seconds: float) -> list[str]:
    def mark(ok: bool) -> str:
        return "ok" if ok else "FAILED"

    rows = sum(check.counts.values())
    return [
        f"restored {backup_file} ({manifest.kind}, made {manifest.created_at.isoformat()}) in {seconds}s",
        f"schema at the latest migration: {mark(check.at_head)} ({check.revision})",
        f"authorisation logs of {check.schools} schools verify: {mark(not check.broken_chains)}",
        f"{check.school_keys} school data keys unwrap: {mark(not check.unreadable_keys)}",
        f"row counts match the backup ({rows} rows in {len(check.counts)} tables): "
        f"{mark(not check.count_mismatches)}",
    ]
