"""The one operator path that opens a school's records: `gateway support read` under a live approval.

The approval must be live at the moment of the read (to the second), for the `read` purpose and for the
resource asked. What was read (resource, record ids, field names) is a `support.read` event in the school's
log in the same transaction as the read, so a read that is not recorded did not happen.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.events import EventType
from gateway.audit.service import record_event
from gateway.errors import NotFound
from gateway.keys.keyring import Keyring
from gateway.mis.models import MisRecordRow
from gateway.mis.reading import open_rows
from gateway.support.requests import RequestNotLive, live_request

DEFAULT_PAGE: Final = 100
MAX_PAGE: Final = 1000


async def support_read(
    session: AsyncSession,
    keyring: Keyring,
    request_id: uuid.UUID,
    *,
    resource: str,
    record_id: str | None,
    now: datetime,
    after: str | None = None,
    limit: int = DEFAULT_PAGE,
) -> list[dict[str, Any]]:
    """The approved resource's live records in record-id order, a page of `limit` after `after` (or the one
    record asked for), recorded as read."""
    request = await live_request(session, request_id, purpose="read", now=now)
    if resource not in request.resource_list:
        raise RequestNotLive(f"The approval does not cover this resource; it covers: {request.resources}.")
    query = select(MisRecordRow.record_id, MisRecordRow.key_id, MisRecordRow.sealed).where(
        MisRecordRow.school_id == request.school_id,
        MisRecordRow.resource == resource,
        MisRecordRow.deleted_at.is_(None),
    )
    if record_id is not None:
        query = query.where(MisRecordRow.record_id == record_id)
    elif after is not None:
        query = query.where(MisRecordRow.record_id > after)
    page = max(1, min(limit, MAX_PAGE))
    rows = (await session.execute(query.order_by(MisRecordRow.record_id).limit(page))).all()
    if record_id is not None and not rows:
        raise NotFound("The school has no such record.")
    records = await open_rows(session, keyring, request.school_id, resource, rows)
    await record_event(
        session,
        school_id=request.school_id,
        event_type=EventType.SUPPORT_READ,
        actor="operator",
        details={
            "request_id": str(request.id),
            "resource": resource,
            "record_ids": [row.record_id for row in rows],
            "fields": sorted({field for record in records for field in record}),
        },
        occurred_at=now,
    )
    return records
