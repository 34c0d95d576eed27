"""Reading stored MIS records back: open each sealed record with the school's data key.

The only place record plaintext is recovered; callers decide what of it leaves the process.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.keys.envelope import open_sealed, record_context
from gateway.keys.keyring import Keyring
from gateway.mis.models import MisRecordRow


async def open_row(session: AsyncSession, keyring: Keyring, row: MisRecordRow) -> dict[str, Any]:
    """The record's fields; `KeyShredded` if its key is gone, `DecryptionFailed` if tampered with."""
    if row.sealed is None or row.key_id is None:
        raise ValueError("a tombstone has no content")
    key = await keyring.key(session, row.school_id, row.key_id)
    context = record_context(str(row.school_id), row.resource, row.record_id, str(row.key_id))
    value: dict[str, Any] = json.loads(open_sealed(key, row.sealed, context))
    return value


async def live_records(
    session: AsyncSession, keyring: Keyring, school_id: uuid.UUID, resource: str
) -> list[dict[str, Any]]:
    """Every live (not deleted) record of one resource of one school, in record-id order."""
    rows = await session.scalars(
        select(MisRecordRow)
        .where(
            MisRecordRow.school_id == school_id,
            MisRecordRow.resource == resource,
            MisRecordRow.deleted_at.is_(None),
        )
        .order_by(MisRecordRow.record_id)
    )
    return [await open_row(session, keyring, row) for row in rows]
