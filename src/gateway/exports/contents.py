"""The files of an export, each as lines read from the database a page at a time (memory stays flat
however large the school), in one order every time: by record id, by creation time then id, by seq.

Records are opened with the school's data key (`mis.reading.open_rows`) and written as the MIS sent
them. Everything else is ids, times, scopes and counts, as the school's API shows them.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import orjson
from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.access_log.models import DataAccess
from gateway.apps.models import App
from gateway.consent.audience import Audience
from gateway.consent.models import ConsentReceipt, Grant, SensitiveApproval
from gateway.consent.receipts import StoredReceipt
from gateway.keys.keyring import Keyring
from gateway.mis.models import MisRecordRow
from gateway.mis.reading import open_rows
from gateway.mis.records import RECORD_MODELS

PAGE: Final = 500  # rows read per query


def json_line(value: Any) -> bytes:
    return orjson.dumps(value) + b"\n"


@dataclass(frozen=True, slots=True)
class Counts:
    """How many of each thing a school has (before an export: its progress total; after: its manifest)."""

    records: dict[str, int]
    grants: int
    receipts: int
    data_accesses: int
    audit_events: int

    @property
    def lines(self) -> int:
        """Lines to write: each record twice (JSON Lines and CSV), everything else once, and the audit
        log's checkpoint."""
        others = self.grants + self.receipts + self.data_accesses + self.audit_events + 1
        return 2 * sum(self.records.values()) + others

    def as_json(self) -> dict[str, Any]:
        return {
            "records": dict(self.records),
            "grants": self.grants,
            "receipts": self.receipts,
            "data_accesses": self.data_accesses,
            "audit_events": self.audit_events,
        }


async def count_school(session: AsyncSession, school_id: uuid.UUID, audit_events: int) -> Counts:
    rows = await session.execute(
        select(MisRecordRow.resource, func.count())
        .where(MisRecordRow.school_id == school_id, MisRecordRow.deleted_at.is_(None))
        .group_by(MisRecordRow.resource)
    )
    live: dict[str, int] = {row[0]: row[1] for row in rows}

    async def count(column: Any, where: Any) -> int:
        return int(await session.scalar(select(func.count(column)).where(where)) or 0)

    return Counts(
        records={resource: int(live.get(resource, 0)) for resource in RECORD_MODELS},
        grants=await count(Grant.id, Grant.school_id == school_id),
        receipts=await count(ConsentReceipt.id, ConsentReceipt.school_id == school_id),
        data_accesses=await count(DataAccess.id, DataAccess.school_id == school_id),
        audit_events=audit_events,
    )


# --- MIS records ------------------------------------------------------------------------------------------


async def record_pages(
    session: AsyncSession, keyring: Keyring, school_id: uuid.UUID, resource: str
) -> AsyncIterator[list[dict[str, Any]]]:
    """The resource's live records, opened, `PAGE` at a time in record-id order."""
    after = ""
    while True:
        rows = (
            await session.execute(
                select(MisRecordRow.record_id, MisRecordRow.key_id, MisRecordRow.sealed)
                .where(
                    MisRecordRow.school_id == school_id,
                    MisRecordRow.resource == resource,
                    MisRecordRow.deleted_at.is_(None),
                    MisRecordRow.record_id > after,
                )
                .order_by(MisRecordRow.record_id)
                .limit(PAGE)
            )
        ).all()
        if not rows:
            return
        yield await open_rows(session, keyring, school_id, resource, rows)
        if len(rows) < PAGE:
            return
        after = rows[-1].record_id


def csv_columns(resource: str, seen: Collection[str]) -> list[str]:
    """The top-level fields the records used, in the record model's order (any the model lacks after)."""
    catalogue = list(RECORD_MODELS[resource].model_fields)
    return [name for name in catalogue if name in seen] + sorted(set(seen) - set(catalogue))


FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        # A spreadsheet would run `=…` (or `+…`, `-…`, `@…`) as a formula: a leading apostrophe makes it
        # text, shown without the apostrophe. The JSON Lines file keeps every value exactly.
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    return orjson.dumps(value).decode()  # numbers, true/false, and nested values as compact JSON


def csv_line(row: Sequence[str]) -> bytes:
    """One RFC 4180 line (CRLF, quoted where needed)."""
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerow(row)
    return text.getvalue().encode()


def csv_record(columns: Sequence[str], record: dict[str, Any]) -> bytes:
    return csv_line([_cell(record.get(name)) for name in columns])


# --- grants, receipts, data accesses --------------------------------------------------------------------


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


async def grant_lines(session: AsyncSession, school_id: uuid.UUID) -> AsyncIterator[bytes]:
    """Every grant of the school, live or ended, oldest first: app, scopes, audience, approvals."""
    after: tuple[datetime, uuid.UUID] | None = None
    while True:
        query = (
            select(Grant, App.client_id, App.name)
            .join(App, App.id == Grant.app_id)
            .where(Grant.school_id == school_id)
            .order_by(Grant.created_at, Grant.id)
            .limit(PAGE)
        )
        if after is not None:
            query = query.where(tuple_(Grant.created_at, Grant.id) > tuple_(*after))
        page = (await session.execute(query)).all()
        if not page:
            return
        approvals: dict[uuid.UUID, list[dict[str, Any]]] = {}
        for approval in await session.scalars(
            select(SensitiveApproval)
            .where(SensitiveApproval.grant_id.in_([grant.id for grant, _c, _n in page]))
            .order_by(SensitiveApproval.grant_id, SensitiveApproval.scope)
        ):
            approvals.setdefault(approval.grant_id, []).append(
                {
                    "scope": approval.scope,
                    "approved_by": None if approval.admin_id is None else f"admin:{approval.admin_id}",
                    "approved_at": _time(approval.approved_at),
                }
            )
        for grant, client_id, app_name in page:
            audience = Audience.of(grant)
            yield json_line(
                {
                    "id": str(grant.id),
                    "app": {"id": str(grant.app_id), "client_id": client_id, "name": app_name},
                    "scopes": sorted(grant.scope_set),
                    "audience": {
                        "whole_school": audience.whole_school,
                        "groups": list(audience.sorted_groups) if audience.groups is not None else None,
                        "exclude": list(audience.sorted_exclude),
                    },
                    "approved_by": None if grant.approved_by is None else f"admin:{grant.approved_by}",
                    "created_at": _time(grant.created_at),
                    "updated_at": _time(grant.updated_at),
                    "revoked_at": _time(grant.revoked_at),
                    "revoked_by": grant.revoked_by,
                    "sensitive_approvals": approvals.get(grant.id, []),
                }
            )
        if len(page) < PAGE:
            return
        last = page[-1][0]
        after = (last.created_at, last.id)


async def receipt_lines(session: AsyncSession, school_id: uuid.UUID) -> AsyncIterator[bytes]:
    """The school's signed consent receipts, oldest first: the JWS (what proves it) and its claims."""
    after: tuple[datetime, uuid.UUID] | None = None
    while True:
        query = (
            select(ConsentReceipt)
            .where(ConsentReceipt.school_id == school_id)
            .order_by(ConsentReceipt.created_at, ConsentReceipt.id)
            .limit(PAGE)
        )
        if after is not None:
            query = query.where(tuple_(ConsentReceipt.created_at, ConsentReceipt.id) > tuple_(*after))
        rows = list(await session.scalars(query))
        for row in rows:
            yield json_line(
                {
                    "id": str(row.id),
                    "grant_id": str(row.grant_id),
                    "app_id": str(row.app_id),
                    "seq": row.seq,
                    "decision": row.decision,
                    "created_at": _time(row.created_at),
                    "hash": row.hash,
                    "jws": row.jws,
                    "claims": StoredReceipt(row).claims,
                }
            )
        if len(rows) < PAGE:
            return
        after = (rows[-1].created_at, rows[-1].id)


async def access_lines(session: AsyncSession, school_id: uuid.UUID) -> AsyncIterator[bytes]:
    """The data-access records, oldest first: which app received which fields of how many records."""
    after = 0
    while True:
        rows = list(
            await session.scalars(
                select(DataAccess)
                .where(DataAccess.school_id == school_id, DataAccess.id > after)
                .order_by(DataAccess.id)
                .limit(PAGE)
            )
        )
        for row in rows:
            yield json_line(
                {
                    "id": row.id,
                    "occurred_at": _time(row.occurred_at),
                    "client_id": row.client_id,
                    "app_id": str(row.app_id),
                    "grant_id": str(row.grant_id),
                    "resource": row.resource,
                    "fields": row.fields.split(),
                    "record_count": row.record_count,
                    "request_id": row.request_id,
                }
            )
        if len(rows) < PAGE:
            return
        after = rows[-1].id
