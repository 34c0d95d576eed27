"""The private key that signs new access tokens, kept unwrapped in memory between checks.

`keys.signing.active_signing_key` reads the active row and unwraps it on every call (~50 µs of AES-GCM and
JWK import, plus a query). On the client_credentials path, the hottest of the token endpoint, this cache
re-reads only the active kid, at most every `RECHECK_SECONDS`, and unwraps a key only when the kid
changed. The bound: after a rotation in another process this one signs with the old key for at most
`RECHECK_SECONDS`; the old key stays published for 15 minutes and 30 s after it was retired
(`keys.signing_policy.PUBLISHED_AFTER_RETIREMENT`), so those tokens verify for their whole life anyway.

One cache per `Keyring` (so per app and master key): a test's fresh app starts with an empty cache.
"""

from __future__ import annotations

import time
import weakref
from typing import Final

from joserfc.jwk import ECKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.read_only import NeedsWrite, is_read_only
from gateway.keys.keyring import Keyring
from gateway.keys.models import SigningKey
from gateway.keys.signing import ensure_signing_key, private_key
from gateway.keys.signing_policy import ALGORITHM

RECHECK_SECONDS: Final = 5.0


class ActiveKeyCache:
    def __init__(self) -> None:
        self._kid: str | None = None
        self._key: ECKey | None = None
        self._checked_at = float("-inf")

    async def key(self, session: AsyncSession, keyring: Keyring) -> ECKey:
        if self._key is not None and time.monotonic() - self._checked_at < RECHECK_SECONDS:
            return self._key
        kid = await session.scalar(
            select(SigningKey.kid).where(SigningKey.algorithm == ALGORITHM, SigningKey.retired_at.is_(None))
        )
        if kid is None and is_read_only(session):
            raise NeedsWrite  # the very first key must be created, in a transaction
        if kid is None or kid != self._kid or self._key is None:
            row = await ensure_signing_key(session, keyring.master_key)
            self._key, self._kid = private_key(keyring.master_key, row), row.kid
        self._checked_at = time.monotonic()
        return self._key

    def clear(self) -> None:
        self._kid, self._key, self._checked_at = None, None, float("-inf")


_caches: weakref.WeakKeyDictionary[Keyring, ActiveKeyCache] = weakref.WeakKeyDictionary()


async def signing_key(session: AsyncSession, keyring: Keyring) -> ECKey:
    """The key to sign a new access token with (see the module's note on how fresh it is)."""
    cache = _caches.get(keyring)
    if cache is None:
        cache = _caches[keyring] = ActiveKeyCache()
    return await cache.key(session, keyring)
