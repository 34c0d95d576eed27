"""The `audit_events` table: each school's authorisation log, append-only and hash-chained (SPEC §4).

| column | holds |
|---|---|
| `school_id`, `seq` | the school, and the event's place in its chain: 1, 2, 3 … (unique together) |
| `event_type` | an `EventType` value |
| `actor` | who acted: `admin:<uuid>`, `connector:<prefix>`, `app:<client_id>`, `operator`, `system` — |
| | an opaque reference, never an email address or a name |
| `occurred_at` | when, in UTC |
| `details` | canonical JSON of ids, counts and scope names — never personal data, secrets, tokens, |
| | email or IP addresses in clear (`gateway.audit.details` says why) |
| `prev_hash`, `hash` | the chain (`gateway.audit.chain`); the hash covers every other column |

Append-only by discipline and by proof, not by database permissions: the gateway has no code path that
updates or deletes an event (the ORM refuses both, below), and `gateway audit verify` detects any change
made behind its back. Rows go only when their school is deleted (`ON DELETE CASCADE`): a trigger forbidding
UPDATE and DELETE cannot tell that cascade from tampering, and triggers would make the migrations
PostgreSQL-only, so there are none.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from gateway.audit.chain import ChainLink
from gateway.db.base import Base


class AppendOnly(RuntimeError):
    """Raised on any attempt to change or delete an audit event through the ORM."""


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("school_id", "seq"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    event_type: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(80))
    occurred_at: Mapped[datetime]
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    def chain_link(self) -> ChainLink:
        return chain_link(
            id=self.id,
            school_id=self.school_id,
            seq=self.seq,
            event_type=self.event_type,
            actor=self.actor,
            occurred_at=self.occurred_at,
            details=self.details,
            prev_hash=self.prev_hash,
            hash=self.hash,
        )


class AuditCheckpoint(Base):
    """A signed checkpoint of one school's chain head (`audit.checkpoints`), made daily and on demand.

    `token` is the JWS; `seq`, `hash` and `signed_at` repeat its claims for queries; `public_jwk` is the
    key that signed it (signing keys are deleted minutes after rotation; the kid is its thumbprint).
    """

    __tablename__ = "audit_checkpoints"
    __table_args__ = (Index("ix_audit_checkpoints_school_id_seq", "school_id", "seq"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime]
    kid: Mapped[str] = mapped_column(String(64))
    public_jwk: Mapped[str] = mapped_column(Text)
    token: Mapped[str] = mapped_column(Text)


def hashed_fields(
    *,
    id: uuid.UUID,
    school_id: uuid.UUID,
    seq: int,
    event_type: str,
    actor: str,
    occurred_at: datetime,
    details: str,
) -> dict[str, Any]:
    """What an event's hash covers: every column but the two hashes. `details` as its stored text."""
    return {
        "id": id,
        "school_id": school_id,
        "seq": seq,
        "event_type": str(event_type),
        "actor": actor,
        "occurred_at": occurred_at,
        "details": details,
    }


def chain_link(*, prev_hash: str, hash: str, **columns: Any) -> ChainLink:
    """A stored row (every column of `audit_events`, by name) as a link of its school's chain."""
    return ChainLink(
        id=columns["id"],
        seq=columns["seq"],
        prev_hash=prev_hash,
        hash=hash,
        fields=hashed_fields(**columns),
    )


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(_mapper: Mapper[AuditEvent], _connection: Connection, target: AuditEvent) -> None:
    raise AppendOnly(f"audit event {target.id} cannot be changed: the log is append-only (SPEC §4)")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(_mapper: Mapper[AuditEvent], _connection: Connection, target: AuditEvent) -> None:
    raise AppendOnly(f"audit event {target.id} cannot be deleted: the log is append-only (SPEC §4)")
