"""What an incident window touched: which schools, which apps, how many pupils (issue 16, item 2).

Four sources, each read for `[window_from, window_to]` (both ends included):

| source | a school is touched when | apps | pupils counted |
|---|---|---|---|
| the data-access log (`DataAccess`) | a data API response carried its records | named | each response's |
| | | | pupil set (`access_log.pupil_sets`) |
| support reads (`support.read` in its chain) | the operator read its records under an approval | - | the |
| | | | `students` record ids read |
| connector activity (`SyncRun` started) | its MIS pushed data | - | - |
| key events (`keys.rotated`, `connector_key.*`, | a key that opens its data changed | - | - |
| `api_key.*` in its chain) | | | |

`schools` keeps only those schools; `apps` keeps only those apps' reads, and then only reads count: support
reads, syncs and key events are no app's doing. The pupil count is of distinct pupils whose records were
read, as far as the logs name them; a sync or a key event touches pupils the logs cannot name.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.access_log.models import DataAccess, DataAccessPupil
from gateway.audit.events import EventType
from gateway.audit.models import AuditEvent
from gateway.mis.models import SyncRun

SUPPORT_READ = EventType.SUPPORT_READ.value
KEY_EVENT_EXACT = (EventType.KEY_ROTATION.value,)
KEY_EVENT_PREFIXES = ("connector_key.", "api_key.")
PUPIL_RESOURCE = "students"


@dataclass(slots=True)
class Touch:
    """What the window shows for one school."""

    school_id: uuid.UUID
    apps: set[str] = field(default_factory=set)
    pupils: set[str] = field(default_factory=set)
    data_accesses: int = 0
    support_reads: int = 0
    sync_runs: int = 0
    key_events: int = 0


def _key_event() -> ColumnElement[bool]:
    return or_(
        AuditEvent.event_type.in_(KEY_EVENT_EXACT),
        *(AuditEvent.event_type.startswith(prefix) for prefix in KEY_EVENT_PREFIXES),
    )


async def touched(
    session: AsyncSession,
    *,
    window_from: datetime,
    window_to: datetime,
    schools: Collection[uuid.UUID] | None = None,
    apps: Collection[str] | None = None,
) -> list[Touch]:
    """Every school the window touched, by school id; ValueError if the window is empty or naive."""
    if window_from.utcoffset() is None or window_to.utcoffset() is None:
        raise ValueError("the window's ends must be timezone-aware")
    if window_to < window_from:
        raise ValueError("the window must end after it starts")
    found: dict[uuid.UUID, Touch] = {}

    def touch(school_id: uuid.UUID) -> Touch:
        return found.setdefault(school_id, Touch(school_id))

    def reads_where() -> list[ColumnElement[bool]]:
        where = [DataAccess.occurred_at >= window_from, DataAccess.occurred_at <= window_to]
        if schools is not None:
            where.append(DataAccess.school_id.in_(list(schools)))
        if apps is not None:
            where.append(DataAccess.client_id.in_(list(apps)))
        return where

    rows = await session.execute(
        select(DataAccess.school_id, DataAccess.client_id, func.count())
        .where(*reads_where())
        .group_by(DataAccess.school_id, DataAccess.client_id)
    )
    for school_id, client_id, count in rows:
        school = touch(school_id)
        school.apps.add(client_id)
        school.data_accesses += count
    pupils = await session.execute(
        select(DataAccessPupil.school_id, DataAccessPupil.student_id)
        .join(
            DataAccess,
            and_(
                DataAccess.school_id == DataAccessPupil.school_id,
                DataAccess.pupil_set == DataAccessPupil.digest,
            ),
        )
        .where(*reads_where())
        .distinct()
    )
    for school_id, student_id in pupils:
        touch(school_id).pupils.add(student_id)
    if apps is not None:
        return _ordered(found)

    def in_chain(*where: ColumnElement[bool]) -> list[ColumnElement[bool]]:
        conditions = [AuditEvent.occurred_at >= window_from, AuditEvent.occurred_at <= window_to, *where]
        if schools is not None:
            conditions.append(AuditEvent.school_id.in_(list(schools)))
        return conditions

    reads = await session.execute(
        select(AuditEvent.school_id, AuditEvent.details).where(
            *in_chain(AuditEvent.event_type == SUPPORT_READ)
        )
    )
    for school_id, details in reads:
        school = touch(school_id)
        school.support_reads += 1
        read = json.loads(details)
        if read.get("resource") == PUPIL_RESOURCE:
            school.pupils.update(str(record) for record in read.get("record_ids", ()))
    keys = await session.execute(
        select(AuditEvent.school_id, func.count())
        .where(*in_chain(_key_event()))
        .group_by(AuditEvent.school_id)
    )
    for school_id, count in keys:
        touch(school_id).key_events += count
    sync_where = [SyncRun.started_at >= window_from, SyncRun.started_at <= window_to]
    if schools is not None:
        sync_where.append(SyncRun.school_id.in_(list(schools)))
    syncs = await session.execute(
        select(SyncRun.school_id, func.count()).where(*sync_where).group_by(SyncRun.school_id)
    )
    for school_id, count in syncs:
        touch(school_id).sync_runs += count
    return _ordered(found)


def _ordered(found: dict[uuid.UUID, Touch]) -> list[Touch]:
    return [found[school_id] for school_id in sorted(found, key=str)]
