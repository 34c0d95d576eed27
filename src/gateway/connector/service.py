"""Connector use cases: batches with idempotency, full syncs, status (SPEC §3.7)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.base import utcnow
from gateway.errors import Conflict, ContentTooLarge, InvalidInput, NotFound
from gateway.keys.keyring import Keyring
from gateway.mis.ingest import apply_batch
from gateway.mis.models import ConnectorBatch, SyncRun
from gateway.mis.records import RECORD_MODELS
from gateway.mis.repository import RecordRepository
from gateway.mis.validation import MAX_BATCH_RECORDS, BatchRejected, BatchTooLarge, validate_batch
from gateway.schools.models import School

RUNNING, COMPLETED = "running", "completed"


def ensure_resource(resource: str) -> str:
    if resource not in RECORD_MODELS:
        # The name is request input: never quoted back (it may hold anything, a NUL or 10 KB of it).
        raise NotFound(f"Unknown resource. The resources are: {', '.join(sorted(RECORD_MODELS))}.")
    return resource


def request_fingerprint(
    resource: str, upserts: list[Any], deletes: list[Any], sync_id: uuid.UUID | None
) -> str:
    canonical = json.dumps([resource, upserts, deletes, str(sync_id)], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def receive_batch(
    session: AsyncSession,
    keyring: Keyring,
    school: School,
    resource: str,
    *,
    upserts: list[Any],
    deletes: list[Any],
    sync_id: uuid.UUID | None,
    idempotency_key: str | None,
    today: date,
) -> tuple[dict[str, Any], bool]:
    """Apply one batch atomically. Returns the answer and whether it is a replay of an earlier one."""
    ensure_resource(resource)
    fingerprint = request_fingerprint(resource, upserts, deletes, sync_id) if idempotency_key else ""
    if idempotency_key:
        earlier = await session.get(ConnectorBatch, (school.id, idempotency_key))
        if earlier is not None:
            if earlier.request_hash != fingerprint:
                raise Conflict("This Idempotency-Key was used for a different batch.")
            return json.loads(earlier.response), True
    try:
        batch = validate_batch(resource, upserts, deletes, today=today)
    except BatchTooLarge as exc:
        raise ContentTooLarge(
            f"A batch holds at most {MAX_BATCH_RECORDS:,} records; this one has {exc.count:,}."
        ) from None
    except BatchRejected as exc:
        listed = "" if exc.total == len(exc.errors) else f" (the first {len(exc.errors)} are listed)"
        raise InvalidInput(
            f"{exc.total} problems in the batch{listed}; nothing was written.", errors=exc.errors
        ) from None
    if sync_id is not None:
        await _running_sync(session, school.id, sync_id, resource)
    result = (await apply_batch(session, keyring, school, batch, sync_id=sync_id)).as_dict()
    if idempotency_key:
        try:
            async with session.begin_nested():
                session.add(
                    ConnectorBatch(
                        school_id=school.id,
                        idempotency_key=idempotency_key,
                        request_hash=fingerprint,
                        response=json.dumps(result),
                    )
                )
        except IntegrityError:
            raise Conflict("A batch with this Idempotency-Key is being applied; retry shortly.") from None
    return result, False


async def start_sync(session: AsyncSession, school: School, resources: list[str]) -> SyncRun:
    for resource in resources:
        ensure_resource(resource)
    if len(set(resources)) != len(resources) or not resources:
        raise InvalidInput(
            "List each resource once.", errors=[{"detail": "duplicate or empty", "pointer": "#/resources"}]
        )
    run = SyncRun(school_id=school.id, resources=" ".join(resources), state=RUNNING)
    session.add(run)
    await session.flush()
    return run


async def complete_sync(session: AsyncSession, school: School, sync_id: uuid.UUID) -> SyncRun:
    """Tombstone every record of the sync's resources that no batch of this sync sent."""
    run = await _sync(session, school.id, sync_id)
    if run.state != RUNNING:
        raise Conflict("This sync has already completed.")
    repository = RecordRepository(session, school.id)
    unseen = {resource: await repository.unseen_ids(resource, run.id) for resource in run.resources.split()}
    total = sum(len(ids) for ids in unseen.values())
    if total:
        seq = await repository.allocate_change_seqs(total)
        for resource, ids in unseen.items():
            await repository.tombstone(resource, ids, seq)
            seq += len(ids)
    run.state, run.completed_at, run.tombstoned = COMPLETED, utcnow(), total
    await session.flush()
    return run


async def sync_status(session: AsyncSession, school: School) -> dict[str, Any]:
    last = await session.scalar(
        select(SyncRun).where(SyncRun.school_id == school.id).order_by(SyncRun.started_at.desc()).limit(1)
    )
    counts = await RecordRepository(session, school.id).counts()
    return {
        "school_id": str(school.id),
        "last_change_seq": school.change_seq,
        "last_sync": None if last is None else sync_view(last),
        "resources": {
            resource: {"records": live, "deleted": deleted, "last_updated_at": updated}
            for resource, live, deleted, updated in counts
        },
    }


def sync_view(run: SyncRun) -> dict[str, Any]:
    return {
        "id": str(run.id),
        "resources": run.resources.split(),
        "state": run.state,
        "started_at": run.started_at,
        "completed_at": run.completed_at,
        "tombstoned": run.tombstoned,
    }


async def _sync(session: AsyncSession, school_id: uuid.UUID, sync_id: uuid.UUID) -> SyncRun:
    run = await session.scalar(select(SyncRun).where(SyncRun.id == sync_id, SyncRun.school_id == school_id))
    if run is None:
        raise NotFound("No such sync for this school.")
    return run


async def _running_sync(
    session: AsyncSession, school_id: uuid.UUID, sync_id: uuid.UUID, resource: str
) -> None:
    run = await _sync(session, school_id, sync_id)
    if run.state != RUNNING:
        raise Conflict("This sync has already completed; start a new one.")
    if resource not in run.resources.split():
        raise InvalidInput(
            f"This sync does not cover {resource}.",
            errors=[{"detail": "not part of the sync", "pointer": "#/sync_id"}],
        )
