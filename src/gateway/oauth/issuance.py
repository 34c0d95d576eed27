"""Issuing what the authorisation server hands out: codes, refresh tokens and access tokens (SPEC §3.4).

Codes and refresh tokens are `gw_ac_` / `gw_rt_` + 256 random bits, stored as SHA-256 digests. A refresh
token's successor is derived from it with HMAC under a server secret, so a retried refresh can be given
the same successor without the successor ever being stored in the clear. Services flush, never commit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.models import App
from gateway.keys.keyring import Keyring
from gateway.oauth.active_key import signing_key
from gateway.oauth.models import AuthorizationCode, Grant, IssuedAccessToken, RefreshToken
from gateway.scopes import format_scopes
from gateway.tokens.access_tokens import ACCESS_TOKEN_LIFETIME_SECONDS, mint_access_token

CODE_PREFIX: Final = "gw_ac_"
REFRESH_TOKEN_PREFIX: Final = "gw_rt_"  # noqa: S105 (a prefix, not a secret)
CODE_LIFETIME: Final = timedelta(seconds=60)
REFRESH_TOKEN_LIFETIME: Final = timedelta(days=30)
REFRESH_RETRY_WINDOW: Final = timedelta(seconds=30)
"""A refresh token used again within this time after its first use gets the same successor (a retry)."""
REFRESH_SUCCESSOR_SECRET: Final = "refresh-token-successor"  # noqa: S105 (a name, not a secret)


def api_audience(issuer: str) -> str:
    """The `aud` of every access token: the data API's base URL (RFC 9068 §3, RFC 8707)."""
    return f"{issuer}/api/v1"


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def new_code() -> str:
    return CODE_PREFIX + secrets.token_urlsafe(32)


def new_refresh_token() -> str:
    return REFRESH_TOKEN_PREFIX + secrets.token_urlsafe(32)


async def successor_of(session: AsyncSession, keyring: Keyring, refresh_token: str) -> str:
    """The refresh token that replaces `refresh_token`: always the same for the same token."""
    key = await keyring.secret(session, REFRESH_SUCCESSOR_SECRET)
    mac = hmac.new(key, refresh_token.encode(), hashlib.sha256).digest()
    return REFRESH_TOKEN_PREFIX + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


async def issue_code(
    session: AsyncSession,
    *,
    app: App,
    grant: Grant,
    redirect_uri: str,
    code_challenge: str,
    scopes: Iterable[str],
    now: datetime,
) -> str:
    """A new single-use code for `grant`; its row's id will name the token family it starts."""
    code = new_code()
    session.add(
        AuthorizationCode(
            code_hash=digest(code),
            app_id=app.id,
            grant_id=grant.id,
            school_id=grant.school_id,
            redirect_uri=redirect_uri,
            code_challenge=code_challenge,
            scopes=format_scopes(scopes),
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
    )
    await session.flush()
    return code


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


@dataclass(frozen=True, slots=True)
class MintedAccessToken:
    token: str
    jti: str
    expires_in: int
    scope: str


async def _signed(
    session: AsyncSession,
    keyring: Keyring,
    *,
    issuer: str,
    app: App,
    school_id: uuid.UUID | None,
    grant_id: uuid.UUID | None,
    scope: str,
    now: datetime,
) -> tuple[str, str]:
    return mint_access_token(
        await signing_key(session, keyring),
        issuer=issuer,
        client_id=app.client_id,
        school_id=school_id,
        grant_id=grant_id,
        scopes=scope.split(),
        audience=api_audience(issuer),
        now=now,
    )


async def school_access_token(
    session: AsyncSession,
    keyring: Keyring,
    *,
    issuer: str,
    app: App,
    grant_id: uuid.UUID,
    school_id: uuid.UUID,
    family_id: uuid.UUID,
    scopes: Iterable[str],
    now: datetime,
) -> MintedAccessToken:
    """A 15-minute token for one school's grant, recorded with its family so it can be revoked early."""
    scope = format_scopes(scopes)
    token, jti = await _signed(
        session, keyring, issuer=issuer, app=app, school_id=school_id, grant_id=grant_id, scope=scope, now=now
    )
    session.add(
        IssuedAccessToken(
            jti=jti,
            app_id=app.id,
            grant_id=grant_id,
            family_id=family_id,
            expires_at=now + timedelta(seconds=ACCESS_TOKEN_LIFETIME_SECONDS),
        )
    )
    await session.flush()
    return MintedAccessToken(token, jti, ACCESS_TOKEN_LIFETIME_SECONDS, scope)


async def app_access_token(
    session: AsyncSession, keyring: Keyring, *, issuer: str, app: App, scopes: Iterable[str], now: datetime
) -> MintedAccessToken:
    """An app-level token (client_credentials) for `/api/v1/app/…`: no school, not recorded at issue."""
    scope = format_scopes(scopes)
    token, jti = await _signed(
        session, keyring, issuer=issuer, app=app, school_id=None, grant_id=None, scope=scope, now=now
    )
    return MintedAccessToken(token, jti, ACCESS_TOKEN_LIFETIME_SECONDS, scope)
