"""Key rotations (and backups, `record_everywhere`) as events in every school's authorisation log (SPEC §4).

The keys are the gateway's, not one school's, but each rotation changes how every school's data is
protected: a new signing key signs its access tokens, checkpoints and receipts from now on; a new master key
wraps its data key and the server secrets that check its API and connector keys. So each school's chain
records a `keys.rotated` event, with which key (`signing` or `master`) and its public id (the `kid`, or the
master key's fingerprint) and never key material. The rotation and its events commit together.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.events import EventType
from gateway.audit.service import record_event
from gateway.keys import signing
from gateway.keys.envelope import master_key_id
from gateway.keys.keyring import rewrap_all
from gateway.keys.models import SigningKey
from gateway.schools.models import School


async def rotate_signing_key(
    session: AsyncSession, master_key: bytes, *, actor: str, now: datetime
) -> SigningKey:
    """`keys.signing.rotate_signing_key`, recorded in every school's log."""
    created = await signing.rotate_signing_key(session, master_key, now=now)
    await record_everywhere(
        session, EventType.KEY_ROTATION, actor, {"key": "signing", "kid": created.kid}, now
    )
    return created


async def rotate_master_key(
    session: AsyncSession, old_master: bytes, new_master: bytes, *, actor: str, now: datetime
) -> tuple[int, int]:
    """`keys.keyring.rewrap_all` (school data keys, server secrets), recorded in every school's log."""
    counts = await rewrap_all(session, old_master, new_master)
    await record_everywhere(
        session,
        EventType.KEY_ROTATION,
        actor,
        {"key": "master", "master_key_id": master_key_id(new_master)},
        now,
    )
    return counts


async def record_everywhere(
    session: AsyncSession, event_type: EventType, actor: str, details: dict[str, str], now: datetime
) -> None:
    """One event in every school's chain: for what the operator does to the whole gateway (key rotations,
    backups), which touches every school's data."""
    for school_id in await session.scalars(select(School.id).order_by(School.urn)):
        await record_event(
            session,
            school_id=school_id,
            event_type=event_type,
            actor=actor,
            details=details,
            occurred_at=now,
        )
