"""Signed checkpoints of a school's chain head: the anchor a hash chain cannot be on its own (SPEC §4).

A checkpoint is an ES256 JWS (`typ: audit-checkpoint+jwt`, `kid` of the gateway's active signing key, the
key the JWKS publishes) over `{"iss", "school_id", "seq", "hash", "iat"}`: the school, its chain's last
seq and that event's hash, and when it was signed. Two uses:

- the last line of an export (`GET /manage/v1/audit-log/export`): the school keeps the file and the JWKS,
  and `gateway audit verify --file` shows offline that no line was altered, removed, reordered or added;
- every day, for every school, a stored checkpoint (`audit_checkpoints`, by the `audit-checkpoint` job or
  `gateway audit checkpoint`): `gateway audit verify` then checks that the live chain still reproduces the
  last checkpoint's hash at its seq, so events cut off the chain's end are found.

A stored checkpoint keeps the public JWK it was signed with, because signing keys are deleted some minutes
after rotation; its `kid` is that key's RFC 7638 thumbprint, checked on reading. What this cannot stop:
someone who can write the database and also holds the master key can sign a checkpoint of their own; a
school's exported copy kept elsewhere is the anchor that needs neither.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from joserfc import jws, jwt
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import ECKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.chain import GENESIS_HASH
from gateway.audit.models import AuditCheckpoint
from gateway.audit.repository import AuditLog
from gateway.keys.signing import ensure_signing_key, private_key
from gateway.keys.signing_policy import ALGORITHM
from gateway.schools.models import School

CHECKPOINT_TYPE: Final = "audit-checkpoint+jwt"
_HEX64: Final = frozenset("0123456789abcdef")


class CheckpointInvalid(ValueError):
    """A checkpoint that is not one the gateway signed: the reason names what is wrong (never a secret)."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What a checkpoint says, after its signature was verified."""

    school_id: uuid.UUID
    seq: int
    hash: str
    signed_at: datetime
    kid: str
    issuer: str


def sign_checkpoint(
    key: ECKey, *, issuer: str, school_id: uuid.UUID, seq: int, head_hash: str, signed_at: datetime
) -> str:
    header = {"typ": CHECKPOINT_TYPE, "alg": ALGORITHM, "kid": key.kid}
    claims = {
        "iss": issuer,
        "school_id": str(school_id),
        "seq": seq,
        "hash": head_hash,
        "iat": int(signed_at.timestamp()),
    }
    return jwt.encode(header, claims, key, algorithms=[ALGORITHM])


def checkpoint_kid(token: str) -> str | None:
    """The unverified `kid` of a checkpoint's header (to choose the key), or None if it has none."""
    try:
        kid = jws.extract_compact(token.encode("ascii")).headers().get("kid")
    except (JoseError, ValueError, TypeError, UnicodeError):
        return None
    return kid if isinstance(kid, str) else None


def read_checkpoint(token: str, keys: Mapping[str, Mapping[str, Any]]) -> Checkpoint:
    """The verified checkpoint, with `keys` as public JWKs by kid; `CheckpointInvalid` otherwise.

    The header is checked before any key is used: `alg` must be ES256 and `typ` audit-checkpoint+jwt.
    """
    if not isinstance(token, str) or token.count(".") != 2:
        raise CheckpointInvalid("not a compact JWS")
    try:
        header = dict(jws.extract_compact(token.encode("ascii")).headers())
    except (JoseError, ValueError, TypeError, UnicodeError):
        raise CheckpointInvalid("not a compact JWS") from None
    if header.get("alg") != ALGORITHM:
        raise CheckpointInvalid(f"its algorithm is not {ALGORITHM}")
    if header.get("typ") != CHECKPOINT_TYPE:
        raise CheckpointInvalid(f"its type is not {CHECKPOINT_TYPE}")
    kid = header.get("kid")
    jwk = keys.get(kid) if isinstance(kid, str) else None
    if jwk is None or not isinstance(kid, str):
        raise CheckpointInvalid(f"it names key {kid!r}, which is not among the gateway's keys (the JWKS)")
    try:
        public = ECKey.import_key({name: str(value) for name, value in jwk.items() if name != "d"})
        claims = jwt.decode(token, public, algorithms=[ALGORITHM]).claims
    except BadSignatureError:
        raise CheckpointInvalid(f"its signature does not verify with key {kid}") from None
    except (JoseError, ValueError, TypeError):
        raise CheckpointInvalid(f"it cannot be verified with key {kid}") from None
    return _claims(claims, kid)


def _claims(claims: Mapping[str, Any], kid: str) -> Checkpoint:
    seq, head, iat = claims.get("seq"), claims.get("hash"), claims.get("iat")
    school, issuer = claims.get("school_id"), claims.get("iss")
    if (
        not isinstance(seq, int)
        or isinstance(seq, bool)
        or seq < 0
        or not isinstance(head, str)
        or len(head) != 64
        or not set(head) <= _HEX64
        or not isinstance(iat, int)
        or isinstance(iat, bool)
        or not isinstance(school, str)
        or not isinstance(issuer, str)
    ):
        raise CheckpointInvalid("its claims are missing or malformed")
    try:
        school_id = uuid.UUID(school)
        signed_at = datetime.fromtimestamp(iat, UTC)
    except (ValueError, OverflowError, OSError):
        raise CheckpointInvalid("its claims are missing or malformed") from None
    return Checkpoint(school_id, seq, head, signed_at, kid, issuer)


async def head_checkpoint(
    session: AsyncSession, key: ECKey, *, issuer: str, school_id: uuid.UUID, now: datetime
) -> tuple[int, str, str]:
    """(seq, hash, checkpoint) of the school's chain head now, signed with `key` (the active signing key:
    `keys.signing.active_signing_key`)."""
    head = await AuditLog(session, school_id).head()
    seq, head_hash = (0, GENESIS_HASH) if head is None else head
    token = sign_checkpoint(
        key, issuer=issuer, school_id=school_id, seq=seq, head_hash=head_hash, signed_at=now
    )
    return seq, head_hash, token


async def store_checkpoints(
    session: AsyncSession, master_key: bytes, *, issuer: str, now: datetime
) -> list[AuditCheckpoint]:
    """Sign and store a checkpoint of every school's chain head (flushes; the caller commits)."""
    row = await ensure_signing_key(session, master_key)
    key = private_key(master_key, row)
    made = []
    for school_id in list(await session.scalars(select(School.id).order_by(School.urn))):
        seq, head_hash, token = await head_checkpoint(
            session, key, issuer=issuer, school_id=school_id, now=now
        )
        checkpoint = AuditCheckpoint(
            school_id=school_id,
            seq=seq,
            hash=head_hash,
            signed_at=now,
            kid=row.kid,
            public_jwk=row.public_jwk,
            token=token,
        )
        session.add(checkpoint)
        made.append(checkpoint)
    await session.flush()
    return made


async def last_checkpoint(session: AsyncSession, school_id: uuid.UUID) -> AuditCheckpoint | None:
    """The school's newest stored checkpoint (highest seq, then latest signed)."""
    return await session.scalar(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.school_id == school_id)
        .order_by(AuditCheckpoint.seq.desc(), AuditCheckpoint.signed_at.desc())
        .limit(1)
    )


def verify_stored(row: AuditCheckpoint) -> Checkpoint:
    """A stored checkpoint, verified with the public key stored beside it, which must be the key its kid
    names (RFC 7638 thumbprint) and must agree with the row's own columns; `CheckpointInvalid` otherwise."""
    try:
        jwk: dict[str, Any] = json.loads(row.public_jwk)
        thumbprint = ECKey.import_key(jwk).thumbprint()
    except (ValueError, TypeError, JoseError):
        raise CheckpointInvalid("its stored public key is unreadable") from None
    if thumbprint != row.kid:
        raise CheckpointInvalid(f"its stored public key is not key {row.kid}")
    checkpoint = read_checkpoint(row.token, {row.kid: jwk})
    if (checkpoint.school_id, checkpoint.seq, checkpoint.hash) != (row.school_id, row.seq, row.hash):
        raise CheckpointInvalid("its signed claims differ from its stored columns")
    return checkpoint
