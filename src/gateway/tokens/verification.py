"""Verifying an access token this gateway signed (RFC 9068 §4), against the published signing keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.keys.signing import verification_keys
from gateway.tokens.access_tokens import (
    AccessTokenClaims,
    InvalidAccessToken,
    unverified_kid,
    verify_access_token,
)
from gateway.tokens.issuance import api_audience


def looks_like_access_token(token: str) -> bool:
    """A compact JWS has three dot-separated parts; anything else is no access token of ours."""
    return token.count(".") == 2


async def verify_ours(session: AsyncSession, token: str, *, issuer: str, now: datetime) -> AccessTokenClaims:
    """The claims of an access token this gateway signed, checked as RFC 9068 §4 requires against the
    published keys (reloaded once for an unknown kid); `InvalidAccessToken` otherwise. The one place the
    bearer check, revocation and introspection verify a token."""
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
