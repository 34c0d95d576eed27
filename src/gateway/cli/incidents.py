"""`gateway incident open|status|notify|close`: incidents and the 72-hour clock (issue 16, item 2; SPEC §9).

Times are ISO 8601 with their offset from UTC (`2026-03-28T00:30Z`, `2026-03-28T01:30+01:00`): a time
without one could mean two instants on the night the clocks go back, and the 72 hours are real hours.
What an incident touched is `gateway.incidents.reach`; telling the schools is `gateway.incidents.notices`.
"""

from __future__ import annotations

import getpass
import os
from datetime import datetime
from typing import Any

import click
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.cli.common import command_settings, emit, fail_cleanly, run_in_transaction
from gateway.db.base import utcnow
from gateway.incidents import clock, notices
from gateway.incidents.service import (
    IncidentStatus,
    all_statuses,
    close_incident,
    find_incident,
    open_incident,
    status_of,
)
from gateway.keys.keyring import Keyring

JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")


def _moment(value: str | None, hint: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use ISO 8601, e.g. 2026-03-28T00:30Z", param_hint=hint) from None
    if moment.utcoffset() is None:
        raise click.BadParameter(
            "give the offset from UTC, e.g. 2026-03-28T00:30Z or 2026-03-28T01:30+01:00", param_hint=hint
        )
    return moment


def _operator(by: str | None) -> str:
    name = by or os.environ.get("USER") or getpass.getuser()
    if not name:
        raise click.BadParameter("say who you are", param_hint="--by")
    return name


def _reference(argument: str | None, option: str | None) -> str:
    if (argument is None) == (option is None):
        raise click.UsageError("name the incident once: `--incident ID` (or the ID alone)")
    return argument or option or ""


def _incident_json(status: IncidentStatus) -> dict[str, Any]:
    incident = status.incident
    return {
        "id": str(incident.id),
        "summary": incident.summary,
        "state": incident.state,
        "outcome": incident.outcome,
        "opened_by": incident.opened_by,
        "opened_at": incident.opened_at.isoformat(),
        "detected_at": incident.detected_at.isoformat(),
        "window_from": incident.window_from.isoformat(),
        "window_to": incident.window_to.isoformat(),
        "deadline": status.deadline.isoformat(),
        "deadline_london": clock.in_london(status.deadline),
        "hours_left": round(status.hours_left, 4),
        "apps": list(status.apps),
        "pupils": status.pupils,
        "schools": [
            {
                "school_id": str(school.school_id),
                "urn": school.urn,
                "name": school.name,
                "apps": list(school.apps),
                "pupils": school.pupils,
                "data_accesses": school.data_accesses,
                "support_reads": school.support_reads,
                "sync_runs": school.sync_runs,
                "key_events": school.key_events,
                "notified_at": school.notified_at.isoformat() if school.notified_at else None,
                "notified_admins": school.notified_admins,
                "notified_dpo_contact": school.notified_dpo,
            }
            for school in status.schools
        ],
    }


def _incident_lines(status: IncidentStatus) -> list[str]:
    incident = status.incident
    clock_text = (
        f"{clock.time_left(status.hours_left)} (deadline {clock.in_london(status.deadline)})"
        if incident.state == "open"
        else f"closed {clock.in_london(incident.closed_at or incident.opened_at)}: {incident.outcome}"
    )
    lines = [
        f"incident {incident.id}  {incident.state}  opened by {incident.opened_by}",
        f"  {incident.summary}",
        f"  detected {clock.in_london(incident.detected_at)}; {clock_text}",
        f"  window {clock.in_london(incident.window_from)} to {clock.in_london(incident.window_to)}",
        f"  {len(status.schools)} school(s), apps: {' '.join(status.apps) or 'none'}, "
        f"pupils read: {status.pupils}",
    ]
    for school in status.schools:
        told = (
            f"notified {clock.in_london(school.notified_at)} ({school.notified_admins} admin(s)"
            f"{' and the data protection contact' if school.notified_dpo else ''})"
            if school.notified_at
            else "not notified"
        )
        lines.append(
            f"  {school.urn}  {school.name}  apps: {' '.join(school.apps) or '-'}  "
            f"pupils: {school.pupils}  {told}"
        )
    return lines


@click.group()
def incident() -> None:
    """Incidents: what they touched, the 72 hours from detection, telling the schools."""


@incident.command("open")
@click.option("--summary", required=True, help="What happened, as the schools will read it.")
@click.option(
    "--detected-at",
    "detected_text",
    required=True,
    metavar="T",
    help="When it was detected (ISO 8601 with offset).",
)
@click.option(
    "--from",
    "from_text",
    default=None,
    metavar="T",
    help="Start of the window looked at (default: 30 days before detection).",
)
@click.option("--to", "to_text", default=None, metavar="T", help="End of the window (default: now).")
@click.option(
    "--school", "schools", multiple=True, metavar="ID|URN", help="Only this school (repeat for more)."
)
@click.option(
    "--app", "apps", multiple=True, metavar="CLIENT_ID", help="Only this app's reads (repeat for more)."
)
@click.option("--by", default=None, help="Who is opening it (default: $USER).")
@JSON_OPTION
@fail_cleanly
def incident_open(
    summary: str,
    detected_text: str,
    from_text: str | None,
    to_text: str | None,
    schools: tuple[str, ...],
    apps: tuple[str, ...],
    by: str | None,
    as_json: bool,
) -> None:
    """Record an incident and compute the schools, apps and pupils its window touched."""
    detected_at = _moment(detected_text, "--detected-at")
    assert detected_at is not None
    window_from, window_to = _moment(from_text, "--from"), _moment(to_text, "--to")
    operator = _operator(by)
    settings = command_settings()

    async def work(session: AsyncSession, _keyring: Keyring) -> IncidentStatus:
        now = utcnow()
        opened = await open_incident(
            session,
            summary=summary,
            detected_at=detected_at,
            window_from=window_from,
            window_to=window_to,
            school_refs=schools,
            client_ids=apps,
            opened_by=operator,
            now=now,
        )
        return await status_of(session, opened, now=now)

    status = run_in_transaction(settings, work)
    emit(as_json, _incident_json(status), _incident_lines(status))


@incident.command("status")
@JSON_OPTION
@fail_cleanly
def incident_status(as_json: bool) -> None:
    """Every incident: what it touched, who was told and when, and the time left of its 72 hours."""
    settings = command_settings()

    async def work(session: AsyncSession, _keyring: Keyring) -> list[IncidentStatus]:
        return await all_statuses(session, now=utcnow())

    statuses = run_in_transaction(settings, work)
    lines = [line for status in statuses for line in _incident_lines(status)] or ["no incidents"]
    emit(as_json, {"incidents": [_incident_json(status) for status in statuses]}, lines)


@incident.command("notify")
@click.argument("incident_arg", metavar="[ID]", required=False)
@click.option("--incident", "incident_option", default=None, metavar="ID", help="The incident.")
@click.option("--dry-run", is_flag=True, help="Print the notices that would be sent; send nothing.")
@JSON_OPTION
@fail_cleanly
def incident_notify(
    incident_arg: str | None, incident_option: str | None, dry_run: bool, as_json: bool
) -> None:
    """Email each touched school's admins and data protection contact, once per school, and record the
    notice in the school's authorisation log."""
    reference = _reference(incident_arg, incident_option)
    settings = command_settings()

    async def work(session: AsyncSession, _keyring: Keyring) -> list[notices.Notice]:
        found = await find_incident(session, reference)
        if dry_run:
            return await notices.drafts(session, found, issuer=settings.issuer)
        return await notices.notify(session, found, issuer=settings.issuer, now=utcnow())

    sent = run_in_transaction(settings, work)
    verb = "would notify" if dry_run else "notified"
    lines: list[str] = []
    for notice in sent:
        lines.append(
            f"{verb} {notice.urn} {notice.school_name}: {notice.admins} admin(s)"
            f"{' and the data protection contact' if notice.dpo_contact else ''}"
        )
        if dry_run:
            lines += [f"  Subject: {notice.subject}", *(f"  {line}" for line in notice.body.splitlines()), ""]
    emit(
        as_json,
        {
            "dry_run": dry_run,
            "notices": [
                {
                    "school_id": str(notice.school_id),
                    "urn": notice.urn,
                    "admins": notice.admins,
                    "dpo_contact": notice.dpo_contact,
                    **({"subject": notice.subject, "body": notice.body} if dry_run else {}),
                }
                for notice in sent
            ],
        },
        lines or ["every touched school has been notified already"],
    )


@incident.command("close")
@click.argument("incident_arg", metavar="[ID]", required=False)
@click.option("--incident", "incident_option", default=None, metavar="ID", help="The incident.")
@click.option("--outcome", required=True, help="What was found and done.")
@JSON_OPTION
@fail_cleanly
def incident_close(
    incident_arg: str | None, incident_option: str | None, outcome: str, as_json: bool
) -> None:
    """Close an incident with its outcome."""
    reference = _reference(incident_arg, incident_option)
    settings = command_settings()

    async def work(session: AsyncSession, _keyring: Keyring) -> IncidentStatus:
        now = utcnow()
        closed = await close_incident(
            session, await find_incident(session, reference), outcome=outcome, now=now
        )
        return await status_of(session, closed, now=now)

    status = run_in_transaction(settings, work)
    emit(
        as_json, _incident_json(status), [f"closed incident {status.incident.id}: {status.incident.outcome}"]
    )
