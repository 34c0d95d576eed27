"""Opening, reading and closing incidents (issue 16, item 2).

Opening computes what the window touched (`reach.touched`) and keeps it, one row per school, so the status
is the same at every reading. Closing records the outcome; a closed incident is not notified any more.
Operators are named by what they type (`--by` or $USER): the incidents table is the operator's own record,
not a school's log, and schools see an incident only through its notice (`notices`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.models import App
from gateway.db.guarded import changed_rows
from gateway.errors import Conflict, InvalidInput, NotFound
from gateway.incidents import clock
from gateway.incidents.models import CLOSED, OPEN, Incident, IncidentSchool
from gateway.incidents.reach import touched
from gateway.schools.models import School
from gateway.schools.service import find_school

MAX_SUMMARY_LENGTH: Final = 500
MAX_OUTCOME_LENGTH: Final = 2000
MAX_OPERATOR_LENGTH: Final = 80
DEFAULT_LOOKBACK: Final = timedelta(days=30)


def _invalid(detail: str, pointer: str) -> InvalidInput:
    return InvalidInput(detail, errors=[{"detail": detail, "pointer": pointer}])


def _check_text(value: str, *, limit: int, pointer: str, one_line: bool) -> str:
    text = value.strip()
    if not text:
        raise _invalid("must not be empty", pointer)
    if len(text) > limit:
        raise _invalid(f"must be at most {limit} characters", pointer)
    if any((ord(char) < 32 and not (char == "\n" and not one_line)) or ord(char) == 127 for char in text):
        raise _invalid("must not contain control characters", pointer)
    return text


@dataclass(frozen=True, slots=True)
class SchoolStatus:
    school_id: uuid.UUID
    urn: str
    name: str
    apps: tuple[str, ...]
    pupils: int
    data_accesses: int
    support_reads: int
    sync_runs: int
    key_events: int
    notified_at: datetime | None
    notified_admins: int
    notified_dpo: bool


@dataclass(frozen=True, slots=True)
class IncidentStatus:
    incident: Incident
    schools: tuple[SchoolStatus, ...]
    deadline: datetime
    hours_left: float

    @property
    def apps(self) -> tuple[str, ...]:
        return tuple(sorted({app for school in self.schools for app in school.apps}))

    @property
    def pupils(self) -> int:
        return sum(school.pupils for school in self.schools)

    @property
    def fully_notified(self) -> bool:
        return all(school.notified_at is not None for school in self.schools)


async def open_incident(
    session: AsyncSession,
    *,
    summary: str,
    detected_at: datetime,
    window_from: datetime | None,
    window_to: datetime | None,
    school_refs: tuple[str, ...],
    client_ids: tuple[str, ...],
    opened_by: str,
    now: datetime,
) -> Incident:
    """Record an incident and what its window touched. The window runs from `window_from` (default: 30 days
    before detection) to `window_to` (default: now); schools by id or URN, apps by client id, must exist."""
    summary = _check_text(summary, limit=MAX_SUMMARY_LENGTH, pointer="#/summary", one_line=False)
    opened_by = _check_text(opened_by, limit=MAX_OPERATOR_LENGTH, pointer="#/by", one_line=True)
    for value, pointer in ((detected_at, "#/detected_at"), (window_from, "#/from"), (window_to, "#/to")):
        if value is not None and value.utcoffset() is None:
            raise _invalid("give a time with its offset from UTC, e.g. 2026-03-28T00:30Z", pointer)
    if detected_at > now:
        raise _invalid("the incident cannot be detected in the future", "#/detected_at")
    start = window_from if window_from is not None else detected_at - DEFAULT_LOOKBACK
    end = window_to if window_to is not None else now
    if end < start:
        raise _invalid("the window must end after it starts", "#/to")
    schools = [await find_school(session, ref) for ref in school_refs]
    for client_id in client_ids:
        if await session.scalar(select(App.id).where(App.client_id == client_id)) is None:
            raise NotFound(f"No app {client_id}.")
    incident = Incident(
        summary=summary,
        detected_at=detected_at,
        window_from=start,
        window_to=end,
        school_filter=" ".join(sorted({str(school.id) for school in schools})) or None,
        app_filter=" ".join(sorted(set(client_ids))) or None,
        opened_by=opened_by,
        opened_at=now,
        state=OPEN,
    )
    session.add(incident)
    await session.flush()
    for found in await touched(
        session,
        window_from=start,
        window_to=end,
        schools={school.id for school in schools} if schools else None,
        apps=set(client_ids) if client_ids else None,
    ):
        session.add(
            IncidentSchool(
                incident_id=incident.id,
                school_id=found.school_id,
                apps=" ".join(sorted(found.apps)),
                pupils=len(found.pupils),
                data_accesses=found.data_accesses,
                support_reads=found.support_reads,
                sync_runs=found.sync_runs,
                key_events=found.key_events,
            )
        )
    await session.flush()
    return incident


async def find_incident(session: AsyncSession, reference: str) -> Incident:
    try:
        incident_id = uuid.UUID(reference)
    except ValueError:
        raise NotFound(f"No incident {reference}.") from None
    incident = await session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"No incident {reference}.")
    return incident


async def status_of(session: AsyncSession, incident: Incident, *, now: datetime) -> IncidentStatus:
    rows = await session.execute(
        select(IncidentSchool, School.urn, School.name)
        .join(School, School.id == IncidentSchool.school_id)
        .where(IncidentSchool.incident_id == incident.id)
        .order_by(School.urn)
    )
    schools = tuple(
        SchoolStatus(
            school_id=row.school_id,
            urn=urn,
            name=name,
            apps=tuple(row.apps.split()),
            pupils=row.pupils,
            data_accesses=row.data_accesses,
            support_reads=row.support_reads,
            sync_runs=row.sync_runs,
            key_events=row.key_events,
            notified_at=row.notified_at,
            notified_admins=row.notified_admins,
            notified_dpo=row.notified_dpo,
        )
        for row, urn, name in rows
    )
    return IncidentStatus(
        incident=incident,
        schools=schools,
        deadline=clock.deadline(incident.detected_at),
        hours_left=clock.hours_left(incident.detected_at, now),
    )


async def all_statuses(session: AsyncSession, *, now: datetime) -> list[IncidentStatus]:
    """Every incident, open ones first, then by detection (earliest first)."""
    incidents = await session.scalars(
        select(Incident).order_by((Incident.state == CLOSED), Incident.detected_at, Incident.id)
    )
    return [await status_of(session, incident, now=now) for incident in incidents]


async def most_urgent_hours_left(session: AsyncSession, *, now: datetime) -> float | None:
    """Hours left of the open incident with the earliest detection that has a school not yet told; None
    when every open incident's schools were all told (or there is none)."""
    detected = await session.scalar(
        select(Incident.detected_at)
        .join(IncidentSchool, IncidentSchool.incident_id == Incident.id)
        .where(Incident.state == OPEN, IncidentSchool.notified_at.is_(None))
        .order_by(Incident.detected_at)
        .limit(1)
    )
    return None if detected is None else clock.hours_left(detected, now)


async def close_incident(
    session: AsyncSession, incident: Incident, *, outcome: str, now: datetime
) -> Incident:
    """Close with the outcome; Conflict if it was closed already."""
    outcome = _check_text(outcome, limit=MAX_OUTCOME_LENGTH, pointer="#/outcome", one_line=False)
    closed = await changed_rows(
        session,
        update(Incident)
        .where(Incident.id == incident.id, Incident.state == OPEN)
        .values(state=CLOSED, closed_at=now, outcome=outcome),
    )
    if not closed:
        raise Conflict(f"Incident {incident.id} is closed already.")
    await session.refresh(incident)
    return incident
