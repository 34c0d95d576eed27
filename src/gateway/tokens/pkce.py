"""PKCE with S256 (RFC 7636): pure helpers for the code exchange. `plain` is never accepted (SPEC §3.2)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Final

# RFC 7636 §4.1: code-verifier = 43*128unreserved; unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
_VERIFIER: Final = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
# RFC 7636 §4.2: BASE64URL(SHA-256(verifier)) without padding is always 43 characters.
_CHALLENGE: Final = re.compile(r"[A-Za-z0-9_-]{43}")


def s256(verifier: str) -> str:
    """BASE64URL-ENCODE(SHA256(ASCII(code_verifier))) without padding (RFC 7636 §4.2)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def is_verifier(value: str) -> bool:
    return _VERIFIER.fullmatch(value) is not None


def is_s256_challenge(value: str) -> bool:
    return _CHALLENGE.fullmatch(value) is not None


def verifier_matches(verifier: str, challenge: str) -> bool:
    """Whether `verifier` hashes to `challenge` (RFC 7636 §4.6), compared in constant time."""
    return hmac.compare_digest(s256(verifier).encode(), challenge.encode())
