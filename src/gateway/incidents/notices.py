"""Telling each school an incident touched: its active admins and its data protection contact are emailed,
the notice is an `incident.notified` event in its chain, and its dashboard shows the incident from then on.

Once per school: the school's row is marked by a guarded update before anything is sent, so a second run
(or two at once) sends only to the schools not told yet. Nothing personal goes into the event: the incident
id and how many were told. The notice names the apps that read the school's data in the window and how
many of its pupils; never a pupil.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.accounts.service import active_admins
from gateway.apps.models import App
from gateway.audit import events
from gateway.audit.events import EventType
from gateway.audit.service import record_event
from gateway.db.guarded import changed_rows
from gateway.email.outbox import enqueue
from gateway.errors import Conflict
from gateway.incidents.clock import in_london
from gateway.incidents.models import CLOSED, OPEN, Incident, IncidentSchool
from gateway.schools.models import School
from gateway.schools.settings import settings_of

SHOWN_AFTER_CLOSING: Final = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Notice:
    """A notice for one school: to whom (how many), and what it says."""

    school_id: uuid.UUID
    urn: str
    school_name: str
    admins: int
    dpo_contact: bool
    subject: str
    body: str
    recipients: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DashboardNotice:
    """An incident as the school's dashboard shows it."""

    incident_id: uuid.UUID
    summary: str
    detected: str
    window: str
    apps: tuple[str, ...]
    pupils: int
    found: tuple[str, ...]  # what the logs show for the school in the window, one sentence each
    notified: str
    closed: bool
    outcome: str | None


async def _app_names(session: AsyncSession, client_ids: list[str]) -> list[str]:
    if not client_ids:
        return []
    rows = await session.execute(select(App.client_id, App.name).where(App.client_id.in_(client_ids)))
    names: dict[str, str] = dict(rows.all())
    return [
        f"{names[client_id]} ({client_id})" if client_id in names else client_id for client_id in client_ids
    ]


def _touched_lines(row: IncidentSchool, apps: list[str]) -> list[str]:
    lines = []
    if apps:
        lines.append("Apps that read the school's data in that time: " + ", ".join(apps) + ".")
    if row.pupils:
        lines.append(f"Pupils whose records were read in that time: {row.pupils}.")
    if row.support_reads:
        lines.append(
            f"The gateway's support staff read the school's records {row.support_reads} time(s), "
            "with the school's leave."
        )
    if row.sync_runs:
        lines.append(f"The school's MIS sent data {row.sync_runs} time(s).")
    if row.key_events:
        lines.append(f"Keys that open the school's data changed {row.key_events} time(s).")
    return lines


async def draft(
    session: AsyncSession, incident: Incident, row: IncidentSchool, school: School, *, issuer: str
) -> Notice:
    """The notice for one school, with its recipients (active admins, then the contact if not one of them)."""
    admins = [admin.email for admin in await active_admins(session, school)]
    contact = (await settings_of(session, school.id)).dpo_email
    dpo = contact is not None and contact not in admins
    apps = await _app_names(session, row.apps.split())
    body = "\n".join(
        [
            "The operator of the gateway is investigating an incident that may have affected "
            f"{school.name}'s data, which your school controls.",
            "",
            f"What happened: {incident.summary}",
            f"Detected: {in_london(incident.detected_at)}.",
            f"The time looked at: {in_london(incident.window_from)} to {in_london(incident.window_to)}.",
            *_touched_lines(row, apps),
            "",
            "As the data controller, your school decides whether to report this to the Information "
            "Commissioner's Office: a reportable breach must be reported within 72 hours of becoming "
            "aware of it. The operator is reporting its own part.",
            "",
            f"See the incident on your dashboard: {issuer}/dashboard",
            f"Every read of the school's data is listed there too: {issuer}/dashboard/log",
        ]
    )
    return Notice(
        school_id=school.id,
        urn=school.urn,
        school_name=school.name,
        admins=len(admins),
        dpo_contact=dpo,
        subject=f"An incident may have affected {school.name}'s data",
        body=body + "\n",
        recipients=tuple(admins + ([contact] if dpo and contact else [])),
    )


async def _pending(session: AsyncSession, incident: Incident) -> list[tuple[IncidentSchool, School]]:
    rows = await session.execute(
        select(IncidentSchool, School)
        .join(School, School.id == IncidentSchool.school_id)
        .where(IncidentSchool.incident_id == incident.id, IncidentSchool.notified_at.is_(None))
        .order_by(School.urn)
    )
    return [(row, school) for row, school in rows]


async def drafts(session: AsyncSession, incident: Incident, *, issuer: str) -> list[Notice]:
    """What `notify` would send now, sending nothing."""
    return [
        await draft(session, incident, row, school, issuer=issuer)
        for row, school in await _pending(session, incident)
    ]


async def notify(session: AsyncSession, incident: Incident, *, issuer: str, now: datetime) -> list[Notice]:
    """Email each school not told yet and record `incident.notified` in its chain; the notices sent.
    Conflict if the incident is closed."""
    if incident.state != OPEN:
        raise Conflict(f"Incident {incident.id} is closed: nothing more is sent.")
    sent = []
    for row, school in await _pending(session, incident):
        notice = await draft(session, incident, row, school, issuer=issuer)
        claimed = await changed_rows(
            session,
            update(IncidentSchool)
            .where(
                IncidentSchool.incident_id == incident.id,
                IncidentSchool.school_id == school.id,
                IncidentSchool.notified_at.is_(None),
            )
            .values(notified_at=now, notified_admins=notice.admins, notified_dpo=notice.dpo_contact),
        )
        if not claimed:
            continue
        for address in notice.recipients:
            await enqueue(session, to=address, subject=notice.subject, body=notice.body)
        await record_event(
            session,
            school_id=school.id,
            event_type=EventType.INCIDENT_NOTIFIED,
            actor=events.OPERATOR,
            details={
                "incident_id": str(incident.id),
                "admins": notice.admins,
                "dpo_contact": notice.dpo_contact,
            },
            occurred_at=now,
        )
        sent.append(notice)
    return sent


async def school_notices(
    session: AsyncSession, school_id: uuid.UUID, *, now: datetime
) -> list[DashboardNotice]:
    """The incidents the school was told of that are open, or closed in the last 30 days; latest first."""
    rows = await session.execute(
        select(Incident, IncidentSchool)
        .join(IncidentSchool, IncidentSchool.incident_id == Incident.id)
        .where(
            IncidentSchool.school_id == school_id,
            IncidentSchool.notified_at.is_not(None),
            or_(Incident.state == OPEN, Incident.closed_at >= now - SHOWN_AFTER_CLOSING),
        )
        .order_by(Incident.detected_at.desc())
    )
    shown = []
    for incident, row in rows:
        assert row.notified_at is not None
        apps = await _app_names(session, row.apps.split())
        shown.append(
            DashboardNotice(
                incident_id=incident.id,
                summary=incident.summary,
                detected=in_london(incident.detected_at),
                window=f"{in_london(incident.window_from)} to {in_london(incident.window_to)}",
                apps=tuple(apps),
                pupils=row.pupils,
                found=tuple(_touched_lines(row, apps)),
                notified=in_london(row.notified_at),
                closed=incident.state == CLOSED,
                outcome=incident.outcome,
            )
        )
    return shown
