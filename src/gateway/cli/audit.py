"""`gateway audit verify`: the operator checks each school's authorisation log (SPEC §1, §4)."""

from __future__ import annotations

import json
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from gateway.audit.service import ChainReport, UnreadableEvent, verify
from gateway.cli.common import CommandFailed, command_settings, fail_cleanly, run_unbounded
from gateway.db import migrations
from gateway.errors import Problem
from gateway.schools.models import School
from gateway.schools.service import find_school


@click.group()
def audit() -> None:
    """The authorisation log."""


@audit.command("verify")
@click.option("--school", "school_ref", default=None, help="School id or URN (default: every school).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@fail_cleanly
def audit_verify(school_ref: str | None, as_json: bool) -> None:
    """Check each school's hash chain; exit 1 naming the first broken event. Reads only; needs no keys."""
    settings = command_settings()

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
    assert report.broken is not None
    return f"seq {report.broken.seq}, event {report.broken.id}: {report.broken.reason}"


def _as_line(urn: str, report: ChainReport) -> str:
    school = f"school {urn} ({report.school_id})"
    if report.broken is None:
        plural = "" if report.events_checked == 1 else "s"
        return f"{school}: ok, {report.events_checked} event{plural}"
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
    }
