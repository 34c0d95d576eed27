"""Write and read the data-access log (SPEC §3.5): fields, counts and which pupils, never record contents.

`record` is called by the data API once per resource in each response it sends with records (a listing
or a single record: one row; a changes-feed page: one row per resource in it), with the pupils those
records were about (`pupil_sets`). `entries` answers a school's question "which apps received which
fields of our data, and when", newest first; `totals` sums it per app, resource and field set for the
dashboard's "Data accessed" page.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, Uuid, bindparam, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.access_log import pupil_sets
from gateway.access_log.models import DataAccess
from gateway.db.base import UTCDateTime, utcnow

__all__ = ["AccessFilter", "Delivery", "Reads", "entries", "record", "totals"]


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one response sent of one resource: the field names present in it, how many records, and the
    pupils those records were about (see `data_api.service.carried_pupils`)."""

    resource: str
    fields: frozenset[str]
    record_count: int
    pupils: frozenset[str] = frozenset()


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
    """Append one row per delivery and store the pupil sets not stored yet: one statement on PostgreSQL."""
    deliveries = list(deliveries)
    if not deliveries:
        return
    now = utcnow()
    digests = [pupil_sets.digest_of(d.pupils) if d.pupils else None for d in deliveries]
    sets = {digest: d.pupils for digest, d in zip(digests, deliveries, strict=True) if digest is not None}
    if (await session.connection()).dialect.name == "postgresql":
        pairs = [(digest, pupil) for digest, pupils in sets.items() for pupil in sorted(pupils)]
        await session.execute(
            _PG_RECORD,
            {
                "school_id": school_id,
                "app_id": app_id,
                "client_id": client_id,
                "grant_id": grant_id,
                "request_id": request_id,
                "now": now,
                "resources": [d.resource for d in deliveries],
                "fields": [" ".join(sorted(d.fields)) for d in deliveries],
                "counts": [d.record_count for d in deliveries],
                "digests": digests,
                "set_digests": sorted(sets),
                "pupil_digests": [digest for digest, _pupil in pairs],
                "pupil_ids": [pupil for _digest, pupil in pairs],
            },
        )
        return
    await pupil_sets.keep(session, school_id, sets)
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
            "pupil_set": digest,
        }
        for delivery, digest in zip(deliveries, digests, strict=True)
    ]
    # A Core insert into the table: the ORM's bulk path costs more than the statement itself here.
    table = cast(Table, DataAccess.__table__)
    if len(rows) == 1:
        await session.execute(insert(table).values(rows[0]))
    else:
        await session.execute(insert(table), rows)


# The data API's hot path on PostgreSQL: the log rows, each new pupil set and its pupils, in one round trip.
# A set already stored (the usual case: apps read the same pages night after night) is skipped by
# ON CONFLICT, and then no pupil row is written either. Writable CTEs all run; `new_pupils` joins on what
# `new_sets` inserted, so a concurrent request storing the same set waits, then writes nothing.
_PG_RECORD = text(
    """
    WITH new_sets AS (
        INSERT INTO data_access_pupil_sets (school_id, digest, created_at)
        SELECT CAST(:school_id AS uuid), d, :now FROM unnest(CAST(:set_digests AS varchar[])) AS d
        ON CONFLICT (school_id, digest) DO NOTHING
        RETURNING digest
    ), new_pupils AS (
        INSERT INTO data_access_pupils (school_id, digest, student_id)
        SELECT CAST(:school_id AS uuid), p.digest, p.student_id
        FROM unnest(CAST(:pupil_digests AS varchar[]), CAST(:pupil_ids AS varchar[])) AS p(digest, student_id)
        JOIN new_sets ON new_sets.digest = p.digest
    )
    INSERT INTO data_access_log (school_id, app_id, client_id, grant_id, resource, fields, record_count,
                                 request_id, occurred_at, pupil_set)
    SELECT CAST(:school_id AS uuid), CAST(:app_id AS uuid), :client_id, CAST(:grant_id AS uuid), d.resource,
           d.fields, d.record_count, :request_id, :now, d.pupil_set
    FROM unnest(CAST(:resources AS varchar[]), CAST(:fields AS text[]), CAST(:counts AS integer[]),
                CAST(:digests AS varchar[]))
         WITH ORDINALITY AS d(resource, fields, record_count, pupil_set, ord)
    ORDER BY d.ord
    """
).bindparams(
    bindparam("school_id", type_=Uuid()),
    bindparam("app_id", type_=Uuid()),
    bindparam("grant_id", type_=Uuid()),
    bindparam("now", type_=UTCDateTime()),
)


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
