"""Client ids and client secrets (SPEC §3.1): pure helpers, no I/O.

A client secret is `gw_cs_` + 256 random bits, shown once and stored as HMAC-SHA-256 under the server's
API-key hashing secret: a slow hash would cost ~100 ms of CPU per token request and buys nothing for a
random 256-bit value. After a rotation the previous secret keeps working until its expiry, so a
deployment can switch over without downtime.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from typing import Final

CLIENT_ID_PREFIX: Final = "gw_app_"
CLIENT_SECRET_PREFIX: Final = "gw_cs_"  # noqa: S105 (a prefix, not a secret)
ROTATION_OVERLAP: Final = timedelta(hours=24)
"""How long the secret a rotation replaced keeps working."""

_SECRET_SHAPE: Final = re.compile(r"gw_cs_[A-Za-z0-9_-]{43}")
_NO_HASH: Final = b"\0" * 32


def new_client_id() -> str:
    """`gw_app_` and 16 url-safe characters (96 random bits): public, unique, unguessable enough."""
    return CLIENT_ID_PREFIX + secrets.token_urlsafe(12)


def new_client_secret() -> str:
    """`gw_cs_` and 43 url-safe characters (256 random bits)."""
    return CLIENT_SECRET_PREFIX + secrets.token_urlsafe(32)


def secret_hash(hashing_key: bytes, secret: str) -> bytes:
    return hmac.new(hashing_key, secret.encode(), hashlib.sha256).digest()


def secret_matches(
    hashing_key: bytes,
    presented: str,
    *,
    current: bytes | None,
    previous: bytes | None,
    previous_expires_at: datetime | None,
    now: datetime,
) -> bool:
    """True if `presented` is the current secret, or the previous one before its expiry.

    Both hashes are always compared, in constant time, so the answer's timing says nothing about which
    (or whether either) matched. A string that is not shaped like a secret is refused without hashing:
    the shape is public.
    """
    if current is None or not _SECRET_SHAPE.fullmatch(presented):
        return False
    digest = secret_hash(hashing_key, presented)
    matches_current = hmac.compare_digest(digest, current)
    matches_previous = hmac.compare_digest(digest, previous or _NO_HASH)
    previous_live = previous is not None and previous_expires_at is not None and now < previous_expires_at
    return matches_current | (matches_previous & previous_live)
