"""Write and read the data-access log (SPEC §3.5): field names and counts, never record contents.

`record` is called by the data API once per resource in each response it sends with records (a listing
or a single record: one row; a changes-feed page: one row per resource in it). `entries` answers a school's
question "which apps received which fields of our data, and when", newest first; `totals` sums it per app,
resource and field set for the dashboard's "Data accessed" page.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.access_log.models import DataAccess
from gateway.db.base import utcnow

__all__ = ["AccessFilter", "Delivery", "Reads", "entries", "record", "totals"]


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one response sent of one resource: the field names present in it and how many records."""

    resource: str
    fields: frozenset[str]
    record_count: int


async def record(
    session: AsyncSession,
    *,
    school_id: uuid.UUID,
    app_id: uuid.UUID,
    client_id: str,
    grant_id: uuid.UUID,
    deliveries: Iterable[Delivery],
    request_id: str | None,
) -> None:
    """Append one row per delivery (one statement); flushed with the request's transaction."""
    now = utcnow()
    rows = [
        {
            "school_id": school_id,
            "app_id": app_id,
            "client_id": client_id,
            "grant_id": grant_id,
            "resource": delivery.resource,
            "fields": " ".join(sorted(delivery.fields)),
            "record_count": delivery.record_count,
            "request_id": request_id,
            "occurred_at": now,
        }
        for delivery in deliveries
    ]
    # A Core insert into the table: the ORM's bulk path costs more than the statement itself here.
    table = cast(Table, DataAccess.__table__)
    if len(rows) == 1:
        await session.execute(insert(table).values(rows[0]))
    elif rows:
        await session.execute(insert(table), rows)


@dataclass(frozen=True, slots=True)
class AccessFilter:
    client_id: str | None = None
    grant_id: uuid.UUID | None = None
    resource: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def entries(
    session: AsyncSession,
    school_id: uuid.UUID,
    where: AccessFilter,
    *,
    before_id: int | None,
    limit: int,
) -> Sequence[DataAccess]:
    """The school's log rows matching `where`, newest first (by id), after the keyset position."""
    statement = select(DataAccess).where(DataAccess.school_id == school_id)
    if where.client_id is not None:
        statement = statement.where(DataAccess.client_id == where.client_id)
    if where.grant_id is not None:
        statement = statement.where(DataAccess.grant_id == where.grant_id)
    if where.resource is not None:
        statement = statement.where(DataAccess.resource == where.resource)
    if where.since is not None:
        statement = statement.where(DataAccess.occurred_at >= where.since)
    if where.until is not None:
        statement = statement.where(DataAccess.occurred_at < where.until)
    if before_id is not None:
        statement = statement.where(DataAccess.id < before_id)
    return (await session.scalars(statement.order_by(DataAccess.id.desc()).limit(limit))).all()


@dataclass(frozen=True, slots=True)
class Reads:
    """What one app received of one resource with one set of fields: in how many responses, how many
    records in all, and when it last did."""

    app_id: uuid.UUID
    client_id: str
    resource: str
    fields: frozenset[str]
    responses: int
    records: int
    last_at: datetime


async def totals(session: AsyncSession, school_id: uuid.UUID) -> list[Reads]:
    """The school's whole log, summed per app, resource and field set (one grouped query)."""
    rows = await session.execute(
        select(
            DataAccess.app_id,
            DataAccess.client_id,
            DataAccess.resource,
            DataAccess.fields,
            func.count(),
            func.coalesce(func.sum(DataAccess.record_count), 0),
            func.max(DataAccess.occurred_at),
        )
        .where(DataAccess.school_id == school_id)
        .group_by(DataAccess.app_id, DataAccess.client_id, DataAccess.resource, DataAccess.fields)
    )
    return [
        Reads(app_id, client_id, resource, frozenset(fields.split()), int(responses), int(records), last_at)
        for app_id, client_id, resource, fields, responses, records, last_at in rows.all()
    ]
