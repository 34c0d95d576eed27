"""Load a synthetic school through the connector's own write path (SPEC §3.7, §9 `gateway demo`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.audit import events
from gateway.connector import keys as connector_keys
from gateway.connector.models import ConnectorKey
from gateway.db.base import utcnow
from gateway.keys.keyring import Keyring
from gateway.mis.ingest import apply_batch
from gateway.mis.synthetic import RESOURCE_ORDER, SyntheticSchool
from gateway.mis.validation import MAX_BATCH_RECORDS, validate_batch
from gateway.schools.models import School
from gateway.schools.service import open_school

PHASES = {"PS": "primary", "SS": "secondary", "AT": "all-through", "16": "sixteen-plus"}


@dataclass(frozen=True)
class LoadedSchool:
    school_id: str
    urn: str
    name: str
    connector_key: str
    counts: dict[str, int]


def demo_batches(generated: SyntheticSchool) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    for resource in RESOURCE_ORDER:
        records = generated.records.get(resource, [])
        for start in range(0, len(records), MAX_BATCH_RECORDS):
            yield resource, records[start : start + MAX_BATCH_RECORDS]


async def load_demo_school(
    sessions: async_sessionmaker[AsyncSession],
    keyring: Keyring,
    generated: SyntheticSchool,
    *,
    today: date,
    progress: Callable[[int], None] = lambda _count: None,
) -> LoadedSchool:
    """Create (or find) the school, write every record in batches, and issue a fresh connector key.

    Running it again with the same seed changes nothing but the connector key: records are upserts by
    id, and earlier demo keys are revoked so they do not pile up.
    """
    details = generated.school
    async with sessions() as session, session.begin():
        school = await session.scalar(select(School).where(School.urn == details["urn"]))
        if school is None:
            school = await open_school(
                session,
                actor=events.SYSTEM,
                urn=details["urn"],
                name=details["name"],
                la_code=details["la_code"],
                establishment_number=details["establishment_number"],
                phase=PHASES.get(str(details.get("phase")), "secondary"),
            )
    for resource, records in demo_batches(generated):
        batch = validate_batch(resource, records, [], today=today)
        async with sessions() as session, session.begin():
            await apply_batch(session, keyring, school, batch)
        progress(len(records))
    async with sessions() as session, session.begin():
        await session.execute(
            update(ConnectorKey)
            .where(ConnectorKey.school_id == school.id, ConnectorKey.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        _row, token = await connector_keys.create_key(session, keyring, school.id, actor=events.SYSTEM)
    return LoadedSchool(str(school.id), school.urn, school.name, token, generated.counts())
