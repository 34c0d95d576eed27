"""Refresh tokens (SPEC §3.4, RFC 6749 §6, RFC 9700 §4.14.2): opaque, hashed at rest, rotated on every use.

A refresh token is `gw_rt_` + 256 random bits, stored by SHA-256. Each use rotates it by one guarded
UPDATE (`rotate`); the winner stores the successor, which is derived from the presented token with HMAC
under a server secret (`successor_of`), so a retry within `REFRESH_RETRY_WINDOW` can be given the very
same successor without the successor ever being stored in the clear.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.guarded import changed_rows
from gateway.keys.keyring import Keyring
from gateway.scopes import format_scopes
from gateway.tokens.hashing import digest
from gateway.tokens.models import RefreshToken

REFRESH_TOKEN_PREFIX: Final = "gw_rt_"  # noqa: S105 (a prefix, not a secret)
REFRESH_TOKEN_LIFETIME: Final = timedelta(days=30)
REFRESH_RETRY_WINDOW: Final = timedelta(seconds=30)
"""A refresh token used again within this time after its first use gets the same successor (a retry)."""
REFRESH_SUCCESSOR_SECRET: Final = "refresh-token-successor"  # noqa: S105 (a name, not a secret)


def new_refresh_token() -> str:
    return REFRESH_TOKEN_PREFIX + secrets.token_urlsafe(32)


def looks_like_refresh_token(token: str) -> bool:
    return token.startswith(REFRESH_TOKEN_PREFIX)


async def successor_of(session: AsyncSession, keyring: Keyring, refresh_token: str) -> str:
    """The refresh token that replaces `refresh_token`: always the same for the same token."""
    key = await keyring.secret(session, REFRESH_SUCCESSOR_SECRET)
    mac = hmac.new(key, refresh_token.encode(), hashlib.sha256).digest()
    return REFRESH_TOKEN_PREFIX + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


async def find_refresh_token(session: AsyncSession, token: str) -> RefreshToken | None:
    return await session.scalar(select(RefreshToken).where(RefreshToken.token_hash == digest(token)))


async def add_refresh_token(
    session: AsyncSession,
    token: str,
    *,
    family_id: uuid.UUID,
    app_id: uuid.UUID,
    grant_id: uuid.UUID,
    school_id: uuid.UUID,
    scopes: Iterable[str],
    now: datetime,
) -> RefreshToken:
    row = RefreshToken(
        token_hash=digest(token),
        family_id=family_id,
        app_id=app_id,
        grant_id=grant_id,
        school_id=school_id,
        scopes=format_scopes(scopes),
        expires_at=now + REFRESH_TOKEN_LIFETIME,
    )
    session.add(row)
    await session.flush()
    return row


async def rotate(session: AsyncSession, row: RefreshToken, *, now: datetime) -> bool:
    """Mark `row` used; False if another request used (or revoked) it first."""
    return bool(
        await changed_rows(
            session,
            update(RefreshToken)
            .where(
                RefreshToken.id == row.id, RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None)
            )
            .values(used_at=now),
        )
    )


def within_retry_window(row: RefreshToken, now: datetime) -> bool:
    """Unused, or used so recently that presenting it again is a retry, not a theft."""
    return row.used_at is None or now - row.used_at <= REFRESH_RETRY_WINDOW


def is_live(row: RefreshToken, app_id: uuid.UUID, now: datetime) -> bool:
    """Whether `row` still works for the app `app_id` (its grant is checked apart)."""
    if row.app_id != app_id or row.revoked_at is not None or row.expires_at <= now:
        return False
    return within_retry_window(row, now)


async def revoke_for_grant(session: AsyncSession, grant_id: uuid.UUID, *, now: datetime) -> int:
    """End every refresh token issued under a grant (its access tokens die with the grant)."""
    return await changed_rows(
        session,
        update(RefreshToken)
        .where(RefreshToken.grant_id == grant_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now),
    )
