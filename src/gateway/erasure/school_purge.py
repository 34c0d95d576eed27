"""A whole school's purge (SPEC §3.8): the `connector_deleted`, `deletion_requested` and `inactive` rules.

In one transaction, in this order:

1. every live grant is revoked (`grant.revoked`, reason `school_data_purged`, with its receipt and its
   `grant.revoked` webhook) and with it every refresh token; access tokens die with their grant;
2. the school's MIS data goes: records (content and tombstones), group memberships, sync runs and batch
   answers, the audience snapshots the data API kept, and its exports (ready, queued or running);
3. the school's data keys are deleted (crypto-shredding): every copy of its ciphertext, in backups too,
   can never be opened again;
4. for a deletion request or inactivity, the school is leaving: its admins (with their sessions, links and
   recovery codes), school API keys, connector keys and data-access records go as well. After a
   connector deletion the school stays: its admins can sign in, read the log and connect an MIS again;
5. a purge record (rule, counts by table) and a `data.purged` event in the school's log;
   `school.data_purged` is queued for every app whose grant was live.

What remains is the authorisation log (whose events name actors by opaque id only), the grants' history
and receipts, and the purge record: no pupil's name, UPN or date of birth, in the clear or sealed.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import Delete, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.access_log.models import DataAccess, DataAccessPupil, DataAccessPupilSet
from gateway.accounts.models import Admin
from gateway.audit.events import EventType
from gateway.audit.service import record_event
from gateway.connector.models import ConnectorKey
from gateway.consent.grants import revoke_grant
from gateway.consent.models import AuthorizationRequest, Grant
from gateway.data_api.models import AudienceSnapshot
from gateway.db.guarded import changed_rows
from gateway.erasure.models import InactivityWarning, PurgeRecord, SchoolDeletion
from gateway.exports.models import Export, ExportChunk
from gateway.keys.keyring import Keyring
from gateway.manage.models import SchoolApiKey
from gateway.mis.models import ConnectorBatch, GroupMembership, MisRecordRow, SyncRun
from gateway.retention import CONNECTOR_DELETED, RuleName
from gateway.schools.models import School
from gateway.webhooks import events as webhook_events
from gateway.webhooks.events import WebhookEvent
from gateway.webhooks.outbox import enqueue

PURGE_REASON: Final = "school_data_purged"


@dataclass(frozen=True, slots=True)
class SchoolPurged:
    record: PurgeRecord
    counts: dict[str, int]
    apps_told: int


def _mis_data(school_id: uuid.UUID) -> list[tuple[str, Delete]]:
    return [
        ("mis_records", delete(MisRecordRow).where(MisRecordRow.school_id == school_id)),
        ("group_memberships", delete(GroupMembership).where(GroupMembership.school_id == school_id)),
        ("sync_runs", delete(SyncRun).where(SyncRun.school_id == school_id)),
        ("connector_batches", delete(ConnectorBatch).where(ConnectorBatch.school_id == school_id)),
        ("audience_snapshots", delete(AudienceSnapshot).where(AudienceSnapshot.school_id == school_id)),
        # Exports hold a copy of it all (sealed); one under way would build again from what is left.
        (
            "export_chunks",
            delete(ExportChunk).where(
                ExportChunk.export_id.in_(select(Export.id).where(Export.school_id == school_id))
            ),
        ),
        ("exports", delete(Export).where(Export.school_id == school_id)),
    ]


def _leaving(school_id: uuid.UUID) -> list[tuple[str, Delete]]:
    return [
        ("data_access_pupils", delete(DataAccessPupil).where(DataAccessPupil.school_id == school_id)),
        (
            "data_access_pupil_sets",
            delete(DataAccessPupilSet).where(DataAccessPupilSet.school_id == school_id),
        ),
        ("data_access_log", delete(DataAccess).where(DataAccess.school_id == school_id)),
        (
            "authorization_requests",
            delete(AuthorizationRequest).where(AuthorizationRequest.school_id == school_id),
        ),
        ("admins", delete(Admin).where(Admin.school_id == school_id)),
        ("school_api_keys", delete(SchoolApiKey).where(SchoolApiKey.school_id == school_id)),
        ("connector_keys", delete(ConnectorKey).where(ConnectorKey.school_id == school_id)),
    ]


async def purge_school(
    session: AsyncSession, keyring: Keyring, school: School, *, rule: RuleName, actor: str, now: datetime
) -> SchoolPurged:
    """Purge the school's data under `rule` (see the module's docstring). Idempotent: a second purge finds
    nothing left and records a purge of nothing."""
    grants = list(
        await session.scalars(
            select(Grant)
            .where(Grant.school_id == school.id, Grant.revoked_at.is_(None))
            .order_by(Grant.created_at, Grant.id)
        )
    )
    revoked = 0
    for grant in grants:
        revoked += await revoke_grant(session, grant, actor=actor, reason=PURGE_REASON, now=now)
    counts: dict[str, int] = {"grants_revoked": revoked}
    pupils = await live_pupils(session, school.id)
    statements = _mis_data(school.id)
    if rule != CONNECTOR_DELETED.name:
        statements += _leaving(school.id)
    for table, statement in statements:
        counts[table] = await changed_rows(session, statement)
    counts["data_keys"] = await keyring.shred(session, school.id)
    await session.execute(delete(InactivityWarning).where(InactivityWarning.school_id == school.id))
    await session.execute(
        update(SchoolDeletion)
        .where(
            SchoolDeletion.school_id == school.id,
            SchoolDeletion.cancelled_at.is_(None),
            SchoolDeletion.purged_at.is_(None),
        )
        .values(purged_at=now)
    )
    record = await record_purge(
        session, school, rule=rule, scope="school", pupils=pupils, counts=counts, actor=actor, now=now
    )
    told = await tell_apps(
        session, school, [grant.app_id for grant in grants], rule=rule, student_ids=[], now=now
    )
    return SchoolPurged(record, counts, told)


async def live_pupils(session: AsyncSession, school_id: uuid.UUID) -> int:
    """How many pupil records the school holds (not deleted)."""
    count = await session.scalar(
        select(func.count()).where(
            MisRecordRow.school_id == school_id,
            MisRecordRow.resource == "students",
            MisRecordRow.deleted_at.is_(None),
        )
    )
    return int(count or 0)


async def record_purge(
    session: AsyncSession,
    school: School,
    *,
    rule: RuleName,
    scope: str,
    pupils: int,
    counts: dict[str, int],
    actor: str,
    now: datetime,
) -> PurgeRecord:
    """The purge record and its `data.purged` event: rule, scope and counts, never an id of a pupil."""
    record = PurgeRecord(
        school_id=school.id,
        rule=rule,
        scope=scope,
        purged_at=now,
        pupils=pupils,
        rows=sum(value for key, value in counts.items() if key != "grants_revoked"),
        counts=json.dumps(counts, sort_keys=True),
    )
    session.add(record)
    await session.flush()
    await record_event(
        session,
        school_id=school.id,
        event_type=EventType.PURGE,
        actor=actor,
        details={
            "purge_id": str(record.id),
            "rule": rule,
            "scope": scope,
            "pupils": pupils,
            "counts": counts,
        },
        occurred_at=now,
    )
    return record


async def tell_apps(
    session: AsyncSession,
    school: School,
    app_ids: list[uuid.UUID],
    *,
    rule: RuleName,
    student_ids: list[str],
    now: datetime,
) -> int:
    """Queue `school.data_purged` for each app (once each); how many apps have a webhook to receive it."""
    data = webhook_events.school_data_purged(school.id, school.urn, rule, now, student_ids)
    told = 0
    for app_id in dict.fromkeys(app_ids):
        told += await enqueue(session, app_id, WebhookEvent.SCHOOL_DATA_PURGED, data, now) is not None
    return told
