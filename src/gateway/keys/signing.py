"""ES256 signing keys for access tokens and the JWKS that publishes them (SPEC §3.4).

The private JWK is stored only wrapped by the master key (bound to its kid); the public JWK is stored
beside it. Exactly one key is active (unretired). Rotation retires it: it stops signing at once but stays
published until every token it signed has expired (`expires_at`), and is deleted at a later rotation.

Each process caches the published set briefly; a write in this process clears it, and a verifier that
meets an unknown kid reloads at once, so another process's rotation is seen on its first new token.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from joserfc.jwk import ECKey
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.base import utcnow
from gateway.keys.envelope import master_key_id, unwrap, wrap
from gateway.keys.models import SigningKey
from gateway.keys.signing_policy import ALGORITHM, PUBLISHED_AFTER_RETIREMENT

CURVE = "P-256"
CACHE_SECONDS = 30.0

PublicJwk = dict[str, str]


def signing_key_purpose(kid: str) -> bytes:
    return f"signing-key|{kid}".encode()


def _new_row(master_key: bytes, now: datetime) -> SigningKey:
    key = ECKey.generate_key(CURVE, private=True)
    kid = key.thumbprint()  # RFC 7638, base64url
    public = {**key.as_dict(private=False), "kid": kid, "use": "sig", "alg": ALGORITHM}
    private = json.dumps(key.as_dict(private=True), separators=(",", ":")).encode()
    return SigningKey(
        kid=kid,
        algorithm=ALGORITHM,
        wrapped_private_jwk=wrap(master_key, private, signing_key_purpose(kid)),
        public_jwk=json.dumps(_public_only(public), sort_keys=True),
        master_key_id=master_key_id(master_key),
        created_at=now,
        activated_at=now,
    )


def _public_only(jwk: Mapping[str, Any]) -> PublicJwk:
    """Only the public members, whatever is stored: a private `d` can never reach the JWKS."""
    return {name: str(jwk[name]) for name in ("kty", "crv", "x", "y", "kid", "use", "alg") if name in jwk}


def private_key(master_key: bytes, row: SigningKey) -> ECKey:
    """The row's private key, unwrapped, carrying its kid."""
    private = json.loads(unwrap(master_key, row.wrapped_private_jwk, signing_key_purpose(row.kid)))
    return ECKey.import_key({**private, "kid": row.kid})


async def _active_row(session: AsyncSession) -> SigningKey | None:
    return await session.scalar(
        select(SigningKey).where(SigningKey.algorithm == ALGORITHM, SigningKey.retired_at.is_(None))
    )


async def ensure_signing_key(
    session: AsyncSession, master_key: bytes, *, now: datetime | None = None
) -> SigningKey:
    """The active key, created if there is none; a concurrent creator's key wins a race."""
    row = await _active_row(session)
    if row is not None:
        return row
    try:
        async with session.begin_nested():
            session.add(_new_row(master_key, now or utcnow()))
    except IntegrityError:  # another process created the first key: use theirs
        pass
    _cache.clear()
    row = await _active_row(session)
    assert row is not None
    return row


async def active_signing_key(session: AsyncSession, master_key: bytes) -> ECKey:
    """The private key new access tokens are signed with (read each time, so a rotation applies at once)."""
    return private_key(master_key, await ensure_signing_key(session, master_key))


async def rotate_signing_key(session: AsyncSession, master_key: bytes, *, now: datetime) -> SigningKey:
    """Activate a new key and retire the old one, still published until its tokens have expired.

    Keys whose publication ended are deleted: nothing they signed can still be valid.
    """
    await session.execute(
        update(SigningKey)
        .where(SigningKey.retired_at.is_(None))
        .values(retired_at=now, expires_at=now + PUBLISHED_AFTER_RETIREMENT)
        .execution_options(synchronize_session="fetch")
    )
    await session.execute(delete(SigningKey).where(SigningKey.expires_at <= now))
    row = _new_row(master_key, now)
    session.add(row)
    await session.flush()
    _cache.clear()
    return row


async def published_rows(session: AsyncSession, *, now: datetime) -> list[SigningKey]:
    """The active key and every retired key whose tokens may still be valid, newest first."""
    rows = await session.scalars(
        select(SigningKey)
        .where(SigningKey.retired_at.is_(None) | (SigningKey.expires_at > now))
        .order_by(SigningKey.activated_at.desc(), SigningKey.kid)
    )
    return list(rows)


async def published_keys(session: AsyncSession, *, now: datetime) -> list[PublicJwk]:
    """Public JWKs for `/.well-known/jwks.json` (cached for `CACHE_SECONDS` in this process)."""
    return [jwk for jwk, _ in await _cache.load(session, now=now)]


async def verification_keys(session: AsyncSession, *, now: datetime, kid: str | None) -> dict[str, PublicJwk]:
    """Public JWKs by kid for `verify_access_token`; reloads at once if `kid` is not among them."""
    entries = await _cache.load(session, now=now)
    if kid is not None and kid not in {jwk["kid"] for jwk, _ in entries}:
        entries = await _cache.load(session, now=now, fresh=True)
    return {jwk["kid"]: jwk for jwk, _ in entries}


def forget_published_keys() -> None:
    """Drop this process's cached JWKS (tests, and after writes made outside this module)."""
    _cache.clear()


class _PublishedCache:
    """Rows as loaded (with their expiry), filtered by `now` on every read so expiry needs no reload."""

    def __init__(self) -> None:
        self._entries: list[tuple[PublicJwk, datetime | None]] | None = None
        self._loaded_at = 0.0

    def clear(self) -> None:
        self._entries = None

    async def load(
        self, session: AsyncSession, *, now: datetime, fresh: bool = False
    ) -> list[tuple[PublicJwk, datetime | None]]:
        if fresh or self._entries is None or time.monotonic() - self._loaded_at > CACHE_SECONDS:
            rows = await published_rows(session, now=now)
            self._entries = [(_public_only(json.loads(row.public_jwk)), row.expires_at) for row in rows]
            self._loaded_at = time.monotonic()
        return [(jwk, expires) for jwk, expires in self._entries if expires is None or expires > now]


_cache = _PublishedCache()
