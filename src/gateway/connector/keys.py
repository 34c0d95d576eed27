"""Connector keys (SPEC §1): created by the operator, shown once, HMAC-SHA-256 at rest, revocable."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.events import EventType
from gateway.audit.service import record_event
from gateway.connector.models import ConnectorKey
from gateway.db.base import utcnow
from gateway.erasure.requests import connector_deleted
from gateway.errors import Conflict, NotFound, Unauthorized
from gateway.keys import api_keys
from gateway.keys.keyring import API_KEY_HASHING_SECRET, Keyring

KIND = "ck"
BEARER_CHALLENGE = {"www-authenticate": 'Bearer realm="connector"'}


async def create_key(
    session: AsyncSession, keyring: Keyring, school_id: uuid.UUID, *, actor: str
) -> tuple[ConnectorKey, str]:
    """Returns the stored row and the key itself, which is never stored or shown again. The key's creation
    is a `connector_key.created` event in the school's log, naming the key by its prefix. Refused while the
    school's deleted connector waits for its data's purge (`gateway.erasure.requests`)."""
    if await connector_deleted(session, school_id):
        raise Conflict(
            "This school's MIS connector was deleted and its data is waiting to be purged; "
            "a new connector key can be created once the purge has run."
        )
    issued = api_keys.issue(KIND)
    hashing_key = await keyring.secret(session, API_KEY_HASHING_SECRET)
    row = ConnectorKey(
        school_id=school_id, prefix=issued.prefix, secret_hash=api_keys.keyed_hash(hashing_key, issued.secret)
    )
    session.add(row)
    await session.flush()
    await record_event(
        session,
        school_id=school_id,
        event_type=EventType.CONNECTOR_KEY_CREATED,
        actor=actor,
        details={"prefix": row.prefix},
    )
    return row, issued.token


async def revoke_key(session: AsyncSession, prefix: str, *, actor: str) -> ConnectorKey:
    """Revoke a key (its next request is refused): a `connector_key.revoked` event; revoking again records
    nothing."""
    row = await session.scalar(select(ConnectorKey).where(ConnectorKey.prefix == prefix))
    if row is None:
        raise NotFound(f"No connector key with prefix {prefix}.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        await session.flush()
        await record_event(
            session,
            school_id=row.school_id,
            event_type=EventType.CONNECTOR_KEY_REVOKED,
            actor=actor,
            details={"prefix": prefix},
            occurred_at=row.revoked_at,
        )
    return row


async def list_keys(session: AsyncSession, school_id: uuid.UUID) -> list[ConnectorKey]:
    rows = await session.scalars(
        select(ConnectorKey).where(ConnectorKey.school_id == school_id).order_by(ConnectorKey.created_at)
    )
    return list(rows)


async def authenticate(session: AsyncSession, keyring: Keyring, authorization: str | None) -> ConnectorKey:
    """The live key behind an `Authorization: Bearer gw_ck_…` header, or 401 without saying why."""
    scheme, _, token = (authorization or "").partition(" ")
    presented = api_keys.parse(token.strip()) if scheme.lower() == "bearer" else None
    if presented is None or presented.kind != KIND:
        raise Unauthorized(
            "Send a connector key as `Authorization: Bearer gw_ck_…`.", headers=BEARER_CHALLENGE
        )
    row = await session.scalar(select(ConnectorKey).where(ConnectorKey.prefix == presented.prefix))
    hashing_key = await keyring.secret(session, API_KEY_HASHING_SECRET)
    stored, revoked = (row.secret_hash, row.revoked_at) if row is not None else (None, None)
    if row is None or not api_keys.live_key_matches(hashing_key, presented.secret, stored, revoked):
        raise Unauthorized("The connector key is not valid.", headers=BEARER_CHALLENGE)
    if (used := api_keys.last_used_update(row.last_used_at, utcnow())) is not None:
        row.last_used_at = used
    return row
