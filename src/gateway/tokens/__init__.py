"""Tokens (SPEC §3.4): RFC 9068 JWT access tokens signed with the rotating ES256 keys, and the JWKS."""

from gateway.tokens.access_tokens import (
    ACCESS_TOKEN_LIFETIME_SECONDS,
    LEEWAY_SECONDS,
    AccessTokenClaims,
    InvalidAccessToken,
    RejectReason,
    mint_access_token,
    verify_access_token,
)

__all__ = [
    "ACCESS_TOKEN_LIFETIME_SECONDS",
    "LEEWAY_SECONDS",
    "AccessTokenClaims",
    "InvalidAccessToken",
    "RejectReason",
    "mint_access_token",
    "verify_access_token",
]
