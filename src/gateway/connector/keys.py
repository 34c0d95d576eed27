"""Connector keys (SPEC §1): created by the operator, shown once, HMAC-SHA-256 at rest, revocable."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.connector.models import ConnectorKey
from gateway.db.base import utcnow
from gateway.errors import NotFound, Unauthorized
from gateway.keys import api_keys
from gateway.keys.keyring import API_KEY_HASHING_SECRET, Keyring

KIND = "ck"
LAST_USED_RESOLUTION = timedelta(minutes=1)
BEARER_CHALLENGE = {"www-authenticate": 'Bearer realm="connector"'}


async def create_key(
    session: AsyncSession, keyring: Keyring, school_id: uuid.UUID
) -> tuple[ConnectorKey, str]:
    """Returns the stored row and the key itself, which is never stored or shown again."""
    issued = api_keys.issue(KIND)
    hashing_key = await keyring.secret(session, API_KEY_HASHING_SECRET)
    row = ConnectorKey(
        school_id=school_id, prefix=issued.prefix, secret_hash=api_keys.keyed_hash(hashing_key, issued.secret)
    )
    session.add(row)
    await session.flush()
    return row, issued.token


async def revoke_key(session: AsyncSession, prefix: str) -> ConnectorKey:
    row = await session.scalar(select(ConnectorKey).where(ConnectorKey.prefix == prefix))
    if row is None:
        raise NotFound(f"No connector key with prefix {prefix}.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        await session.flush()
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
    stored = row.secret_hash if row is not None else b"\0" * 32  # compare anyway: same work either way
    if (
        row is None
        or not api_keys.matches(hashing_key, presented.secret, stored)
        or row.revoked_at is not None
    ):
        raise Unauthorized("The connector key is not valid.", headers=BEARER_CHALLENGE)
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        row.last_used_at = now
    return row
