"""Recognising a token a client hands back to `/oauth/revoke` or `/oauth/introspect`.

The gateway's tokens are told apart by shape, so a `token_type_hint` is never needed: a refresh token
starts with `gw_rt_`, an access token is a compact JWS (three dot-separated parts). Anything else is no
token of ours.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.keys.signing import verification_keys
from gateway.oauth.issuance import REFRESH_TOKEN_PREFIX, api_audience, digest
from gateway.oauth.models import RefreshToken
from gateway.tokens.access_tokens import (
    AccessTokenClaims,
    InvalidAccessToken,
    unverified_kid,
    verify_access_token,
)


class TokenKind(StrEnum):
    ACCESS = "access_token"
    REFRESH = "refresh_token"
    UNKNOWN = "unknown"


def kind_of(token: str) -> TokenKind:
    if token.startswith(REFRESH_TOKEN_PREFIX):
        return TokenKind.REFRESH
    if token.count(".") == 2:
        return TokenKind.ACCESS
    return TokenKind.UNKNOWN


async def find_refresh_token(session: AsyncSession, token: str) -> RefreshToken | None:
    return await session.scalar(select(RefreshToken).where(RefreshToken.token_hash == digest(token)))


async def verify_ours(session: AsyncSession, token: str, *, issuer: str, now: datetime) -> AccessTokenClaims:
    """The claims of an access token this gateway signed, checked as RFC 9068 §4 requires against the
    published keys (reloaded once for an unknown kid); `InvalidAccessToken` otherwise. The one place both
    the data API's bearer check and revocation/introspection verify a token."""
    keys = await verification_keys(session, now=now, kid=unverified_kid(token))
    return verify_access_token(token, keys, issuer=issuer, audience=api_audience(issuer), now=now)


async def verified_access_token(
    session: AsyncSession, token: str, *, issuer: str, now: datetime
) -> AccessTokenClaims | None:
    """The claims of an access token this gateway signed and that has not expired; None otherwise."""
    try:
        return await verify_ours(session, token, issuer=issuer, now=now)
    except InvalidAccessToken:
        return None
