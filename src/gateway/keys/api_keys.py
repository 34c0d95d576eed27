"""API keys shown once and stored as HMAC-SHA-256 (SPEC §3.1): `gw_<kind>_<prefix>_<secret>`.

The prefix finds the row; the secret is checked against its keyed hash in constant time. A 256-bit
random secret needs no slow hash; the HMAC key is a server secret wrapped by the master key, so a
stolen table alone cannot test guesses.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

_KEY_SHAPE = re.compile(r"^gw_(?P<kind>[a-z]{2})_(?P<prefix>[A-Za-z0-9]{12})_(?P<secret>[A-Za-z0-9_-]{43})$")


@dataclass(frozen=True, slots=True)
class IssuedKey:
    kind: str
    prefix: str
    secret: str

    @property
    def token(self) -> str:
        return f"gw_{self.kind}_{self.prefix}_{self.secret}"


@dataclass(frozen=True, slots=True)
class PresentedKey:
    kind: str
    prefix: str
    secret: str


def issue(kind: str) -> IssuedKey:
    prefix = "".join(
        secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789") for _ in range(12)
    )
    return IssuedKey(kind, prefix, secrets.token_urlsafe(32))


def parse(token: str) -> PresentedKey | None:
    match = _KEY_SHAPE.fullmatch(token)
    if match is None:
        return None
    return PresentedKey(match["kind"], match["prefix"], match["secret"])


def keyed_hash(hashing_key: bytes, secret: str) -> bytes:
    return hmac.new(hashing_key, secret.encode(), hashlib.sha256).digest()


def matches(hashing_key: bytes, secret: str, stored_hash: bytes) -> bool:
    return hmac.compare_digest(keyed_hash(hashing_key, secret), stored_hash)


NO_HASH = b"\0" * 32  # compared against when no key has the prefix: the same work either way
LAST_USED_RESOLUTION = timedelta(minutes=1)


def live_key_matches(
    hashing_key: bytes, secret: str, stored_hash: bytes | None, revoked_at: datetime | None
) -> bool:
    """Whether `secret` is a live key's: always one constant-time comparison, whether or not a row exists."""
    matched = matches(hashing_key, secret, stored_hash if stored_hash is not None else NO_HASH)
    return matched and stored_hash is not None and revoked_at is None


def last_used_update(last_used_at: datetime | None, now: datetime) -> datetime | None:
    """The new `last_used_at` to write, or None while the stored one is recent (no write per request)."""
    if last_used_at is None or now - last_used_at > LAST_USED_RESOLUTION:
        return now
    return None
