"""Minting access tokens (SPEC §3.4, RFC 9068): 15-minute ES256 JWTs signed with the active key.

A school token (authorization_code or refresh_token grant) is recorded at issue with its family, so it
can be denied before it expires; an app-level token (client_credentials) is recorded only if it is
revoked. Services flush, never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.models import App
from gateway.keys.keyring import Keyring
from gateway.scopes import format_scopes
from gateway.tokens.access_tokens import ACCESS_TOKEN_LIFETIME_SECONDS, mint_access_token
from gateway.tokens.models import IssuedAccessToken
from gateway.tokens.signing_key import signing_key


def api_audience(issuer: str) -> str:
    """The `aud` of every access token: the data API's base URL (RFC 9068 §3, RFC 8707)."""
    return f"{issuer}/api/v1"


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
