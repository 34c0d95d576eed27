"""What the signing keys sign with and for how long (SPEC §3.4), so a retired key stays published long enough.

The access tokens (`tokens.access_tokens`) take their algorithm, lifetime and clock-skew leeway from here:
a key retired now must stay in the JWKS until the last token it signed has expired for every verifier.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

ALGORITHM: Final = "ES256"  # P-256 keys (RFC 7518 §3.4)
SIGNED_TOKEN_LIFETIME: Final = timedelta(minutes=15)
CLOCK_SKEW: Final = timedelta(seconds=30)
PUBLISHED_AFTER_RETIREMENT: Final = SIGNED_TOKEN_LIFETIME + CLOCK_SKEW
"""A retired key stays published for the life of the last token it signed, plus the verifiers' leeway."""
