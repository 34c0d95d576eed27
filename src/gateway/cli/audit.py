"""`gateway audit verify` and `gateway audit checkpoint`: the operator checks each school's authorisation log
against its last signed checkpoint, checks an exported copy offline, and signs checkpoints (SPEC §1, §4)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from gateway.audit.export_file import ExportReport, check_export
from gateway.audit.service import ChainReport, UnreadableEvent, verify
from gateway.cli.common import CommandFailed, command_settings, emit, fail_cleanly, run_unbounded
from gateway.cli.verification_keys import database_keys, jwks_from
from gateway.db import migrations
from gateway.db.base import utcnow
from gateway.errors import Problem
from gateway.jobs.checkpoints import checkpoint_job
from gateway.jobs.election import run_now
from gateway.keys.master import resolve_master_key
from gateway.schools.models import School
from gateway.schools.service import find_school


@click.group()
def audit() -> None:
    """The authorisation log."""


@audit.command("verify")
@click.option("--school", "school_ref", default=None, help="School id or URN (default: every school).")
@click.option(
    "--file",
    "export_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Check this export (JSON Lines from /manage/v1/audit-log/export) instead of the database.",
)
@click.option(
    "--jwks",
    "jwks_source",
    default=None,
    help="With --file: the gateway's JWKS, a saved /.well-known/jwks.json or its URL "
    "(default: the keys in the configured database).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@fail_cleanly
def audit_verify(
    school_ref: str | None, export_file: Path | None, jwks_source: str | None, as_json: bool
) -> None:
    """Check each school's hash chain and hold it against its last signed checkpoint, or (--file) an
    export offline; exit 1 naming the first broken event or line. Reads only."""
    settings = command_settings()
    if export_file is not None:
        if school_ref is not None:
            raise CommandFailed("give --school or --file, not both")
        _verify_file(export_file, jwks_source, as_json)
        return
    if jwks_source is not None:
        raise CommandFailed("--jwks is for checking an export: give --file too")

    async def work(engine: AsyncEngine) -> list[tuple[str, ChainReport]]:
        if not await migrations.is_at_head(engine):
            raise CommandFailed("the database is not migrated: run `gateway migrate` first")
        async with async_sessionmaker(engine)() as session, session.begin():
            found = None if school_ref is None else await find_school(session, school_ref)
            reports = await verify(session, None if found is None else found.id)
            urns = dict((await session.execute(select(School.id, School.urn))).tuples().all())
        return [(urns[report.school_id], report) for report in reports]

    try:
        results = run_unbounded(settings, work)
    except (Problem, UnreadableEvent) as exc:
        raise CommandFailed(str(exc)) from None
    if as_json:
        click.echo(
            json.dumps({"ok": all(r.ok for _, r in results), "schools": [_as_json(*r) for r in results]})
        )
    else:
        click.echo("\n".join(_as_line(*result) for result in results) or "no schools")
    broken = [(urn, report) for urn, report in results if not report.ok]
    if broken:
        urn, report = broken[0]
        others = len(broken) - 1
        more = f" (and {others} more school{'s' if others > 1 else ''})" if others else ""
        raise CommandFailed(f"the authorisation log of school {urn} is broken: {_break(report)}{more}")


def _break(report: ChainReport) -> str:
    if report.broken is None:
        fault = report.checkpoint_fault
        assert fault is not None
        return fault.reason if fault.seq is None else f"seq {fault.seq}: {fault.reason}"
    return f"seq {report.broken.seq}, event {report.broken.id}: {report.broken.reason}"


def _as_line(urn: str, report: ChainReport) -> str:
    school = f"school {urn} ({report.school_id})"
    if report.ok:
        plural = "" if report.events_checked == 1 else "s"
        anchored = "" if report.checkpoint is None else f" (checkpoint at seq {report.checkpoint.seq} holds)"
        return f"{school}: ok, {report.events_checked} event{plural}{anchored}"
    return f"{school}: BROKEN at {_break(report)}"


def _as_json(urn: str, report: ChainReport) -> dict[str, Any]:
    broken = report.broken
    return {
        "school_id": str(report.school_id),
        "urn": urn,
        "ok": report.ok,
        "events_checked": report.events_checked,
        "broken": None
        if broken is None
        else {"seq": broken.seq, "event_id": str(broken.id), "reason": str(broken.reason)},
        "checkpoint": None
        if report.checkpoint is None
        else {
            "seq": report.checkpoint.seq,
            "hash": report.checkpoint.hash,
            "signed_at": report.checkpoint.signed_at.isoformat(),
            "kid": report.checkpoint.kid,
        },
        "checkpoint_fault": None
        if report.checkpoint_fault is None
        else {"seq": report.checkpoint_fault.seq, "reason": report.checkpoint_fault.reason},
    }


def _verify_file(path: Path, jwks_source: str | None, as_json: bool) -> None:
    keys = jwks_from(jwks_source) if jwks_source is not None else database_keys()
    with path.open("rb") as lines:
        report = check_export(lines, keys)
    if as_json:
        click.echo(json.dumps(_file_json(str(path), report)))
    elif report.ok:
        assert report.checkpoint is not None
        checkpoint = report.checkpoint
        click.echo(
            f"export {path}: ok, school {checkpoint.school_id}, {report.events_checked} events, checkpoint "
            f"at seq {checkpoint.seq} signed {checkpoint.signed_at.isoformat()} by key {checkpoint.kid}"
        )
    else:
        click.echo(f"export {path}: BROKEN at {report.fault}")
    if not report.ok:
        raise CommandFailed(f"the export {path} is broken: {report.fault}")


def _file_json(path: str, report: ExportReport) -> dict[str, Any]:
    checkpoint, fault = report.checkpoint, report.fault
    return {
        "ok": report.ok,
        "file": path,
        "school_id": None if report.school_id is None else str(report.school_id),
        "events_checked": report.events_checked,
        "checkpoint": None
        if checkpoint is None
        else {
            "seq": checkpoint.seq,
            "hash": checkpoint.hash,
            "signed_at": checkpoint.signed_at.isoformat(),
            "kid": checkpoint.kid,
        },
        "broken": None if fault is None else {"line": fault.line, "seq": fault.seq, "reason": fault.reason},
    }


@audit.command("checkpoint")
@click.option(
    "--json", "as_json", is_flag=True, help="Print how many checkpoints were signed as one JSON object."
)
@fail_cleanly
def audit_checkpoint(as_json: bool) -> None:
    """Sign and store a checkpoint of every school's chain head now (what `gateway serve` does daily)."""
    settings = command_settings()
    master_key = resolve_master_key(settings)

    async def work(engine: AsyncEngine) -> dict[str, int]:
        if not await migrations.is_at_head(engine):
            raise CommandFailed("the database is not migrated: run `gateway migrate` first")
        job = checkpoint_job(master_key, settings.issuer)
        result = await run_now(async_sessionmaker(engine, expire_on_commit=False), job, now=utcnow())
        return dict(result.counts)

    made = run_unbounded(settings, work)
    count = made["audit_checkpoints"]
    emit(as_json, made, [f"signed {count} checkpoint{'' if count == 1 else 's'} of school chain heads"])
