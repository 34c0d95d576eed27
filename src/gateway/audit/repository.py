"""Reading and appending one school's audit events; every query is scoped to that school (SPEC §4, §5)."""

from __future__ import annotations

import uuid

from sqlalchemy import Uuid, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.chain import ChainLink
from gateway.audit.models import AuditEvent, chain_link

# A no-op write that takes the school row's lock: on PostgreSQL it is held until commit, and SQLite admits
# one writer at a time. Plain SQL, because an ORM update would also bump `schools.updated_at`.
_LOCK_SCHOOL = text("UPDATE schools SET change_seq = change_seq WHERE id = :id RETURNING id").bindparams(
    bindparam("id", type_=Uuid())
)

_LINK_COLUMNS = (
    AuditEvent.id,
    AuditEvent.school_id,
    AuditEvent.seq,
    AuditEvent.event_type,
    AuditEvent.actor,
    AuditEvent.occurred_at,
    AuditEvent.details,
    AuditEvent.prev_hash,
    AuditEvent.hash,
)


class AuditLog:
    """One school's log. Construct it with the school it may see."""

    def __init__(self, session: AsyncSession, school_id: uuid.UUID) -> None:
        self.session = session
        self.school_id = school_id

    async def lock(self) -> bool:
        """Lock the school's row until the transaction ends, so appends queue; False if no such school."""
        return await self.session.scalar(_LOCK_SCHOOL, {"id": self.school_id}) is not None

    async def head(self) -> tuple[int, str] | None:
        """The last event's seq and hash, or None for an empty log."""
        row = (
            await self.session.execute(
                select(AuditEvent.seq, AuditEvent.hash)
                .where(AuditEvent.school_id == self.school_id)
                .order_by(AuditEvent.seq.desc())
                .limit(1)
            )
        ).first()
        return None if row is None else (row.seq, row.hash)

    async def append(self, event: AuditEvent) -> None:
        assert event.school_id == self.school_id, "an event of another school"
        self.session.add(event)
        await self.session.flush()

    async def events(self, *, after_seq: int, limit: int) -> list[AuditEvent]:
        query = (
            select(AuditEvent)
            .where(AuditEvent.school_id == self.school_id, AuditEvent.seq > after_seq)
            .order_by(AuditEvent.seq)
            .limit(limit)
        )
        return list(await self.session.scalars(query))

    async def links(self, *, after_seq: int | None, limit: int) -> list[ChainLink]:
        """Stored rows as chain links, read column by column so the values are the database's own
        (never objects already in the session). `after_seq=None` starts below any stored seq."""
        query = select(*_LINK_COLUMNS).where(AuditEvent.school_id == self.school_id)
        if after_seq is not None:
            query = query.where(AuditEvent.seq > after_seq)
        rows = await self.session.execute(query.order_by(AuditEvent.seq).limit(limit))
        return [chain_link(**row._asdict()) for row in rows]
