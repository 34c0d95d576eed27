"""Opaque single-use tokens for emailed links and sessions, stored only as their SHA-256 digest.

A token is a readable prefix naming its purpose (`gw_rs_` for a password-reset link, say) followed by 256
random bits in base64url. Guessing one is hopeless, so an unkeyed SHA-256 is enough at rest: a stolen table
holds digests that cannot be turned back into working tokens, and lookups stay one indexed equality.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

TOKEN_BYTES = 32
_PREFIX = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*_")


def new_token(prefix: str) -> str:
    """`prefix` followed by 32 random bytes in base64url without padding, e.g. `gw_rs_Xy…` (43 characters)."""
    if not _PREFIX.fullmatch(prefix):
        raise ValueError("prefix must be lower-case words joined and ended by underscores, like 'gw_rs_'")
    return prefix + secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> bytes:
    """SHA-256 of the whole token (prefix included); accepts any string a client may send."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def digests_match(a: bytes, b: bytes) -> bool:
    """Constant-time equality of two digests."""
    return hmac.compare_digest(a, b)
