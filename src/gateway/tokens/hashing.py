"""How codes and refresh tokens are kept: by SHA-256 only (SPEC §3.4).

They are 256 bits of randomness, so a plain digest is enough (no salt or slow hash needed) and a leaked
table holds nothing usable.
"""

from __future__ import annotations

import hashlib


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()
