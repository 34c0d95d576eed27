"""Reading stored MIS records back: open each sealed record with the school's data key.

The only place record plaintext is recovered; callers decide what of it leaves the process.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.keys.envelope import opener, record_context
from gateway.keys.keyring import Keyring
from gateway.mis.models import MisRecordRow


class SealedRow(Protocol):
    """What opening needs of a stored row (an ORM row, a Core row or the data API's `Stored`)."""

    @property
    def record_id(self) -> str: ...

    @property
    def key_id(self) -> uuid.UUID | None: ...

    @property
    def sealed(self) -> bytes | None: ...


async def open_rows(
    session: AsyncSession, keyring: Keyring, school_id: uuid.UUID, resource: str, rows: Sequence[SealedRow]
) -> list[dict[str, Any]]:
    """Each live row's fields, in order; `KeyShredded` if a key is gone, `DecryptionFailed` if tampered."""
    openers: dict[uuid.UUID, Callable[[bytes, bytes], bytes]] = {}
    school = str(school_id)
    opened: list[dict[str, Any]] = []
    for row in rows:
        if row.key_id is None or row.sealed is None:
            raise ValueError("a tombstone has no content")
        open_sealed = openers.get(row.key_id)
        if open_sealed is None:
            open_sealed = openers[row.key_id] = opener(await keyring.key(session, school_id, row.key_id))
        context = record_context(school, resource, row.record_id, str(row.key_id))
        opened.append(orjson.loads(open_sealed(row.sealed, context)))
    return opened


async def live_records(
    session: AsyncSession, keyring: Keyring, school_id: uuid.UUID, resource: str
) -> list[dict[str, Any]]:
    """Every live (not deleted) record of one resource of one school, in record-id order."""
    rows = await session.execute(
        select(MisRecordRow.record_id, MisRecordRow.key_id, MisRecordRow.sealed)
        .where(
            MisRecordRow.school_id == school_id,
            MisRecordRow.resource == resource,
            MisRecordRow.deleted_at.is_(None),
        )
        .order_by(MisRecordRow.record_id)
    )
    return await open_rows(session, keyring, school_id, resource, rows.all())
