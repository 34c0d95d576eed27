"""Developer accounts and keys (SPEC §1): created by the operator, keys shown once, rotated by the developer.

Rotation issues a new key and revokes the presenting one in the same transaction: the old key stops
working the moment the new one is returned. The revocation is one guarded UPDATE, so two rotations with
the same key cannot both succeed and leave two live keys behind.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.base import utcnow
from gateway.db.guarded import changed_rows
from gateway.developers.models import NAME_MAX_LENGTH, Developer, DeveloperKey
from gateway.email.addresses import address_problem
from gateway.errors import Conflict, InvalidInput, Unauthorized
from gateway.keys import api_keys
from gateway.keys.keyring import API_KEY_HASHING_SECRET, Keyring

KIND = "dk"
BEARER_CHALLENGE = {"www-authenticate": 'Bearer realm="developer"'}


@dataclass(frozen=True, slots=True)
class AuthenticatedDeveloper:
    """A developer and the live key their request presented."""

    developer: Developer
    key: DeveloperKey


def invalid_key() -> Unauthorized:
    """The one answer for a malformed, unknown, wrong or revoked key: nothing says which."""
    return Unauthorized("The developer key is not valid.", headers=BEARER_CHALLENGE)


def check_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned or len(cleaned) > NAME_MAX_LENGTH or any(ord(c) < 32 or ord(c) == 127 for c in cleaned):
        raise InvalidInput(
            f"Give a name of 1 to {NAME_MAX_LENGTH} characters.",
            errors=[{"detail": "not a usable name", "pointer": "#/name"}],
        )
    return cleaned


def check_email(email: str) -> str:
    address = email.strip().lower()
    problem = address_problem(address)
    if problem is not None:
        raise InvalidInput(
            f"Give a valid email address: it {problem}.", errors=[{"detail": problem, "pointer": "#/email"}]
        )
    return address


async def _new_key(session: AsyncSession, keyring: Keyring, developer: Developer) -> tuple[DeveloperKey, str]:
    issued = api_keys.issue(KIND)
    hashing_key = await keyring.secret(session, API_KEY_HASHING_SECRET)
    row = DeveloperKey(
        developer_id=developer.id,
        prefix=issued.prefix,
        secret_hash=api_keys.keyed_hash(hashing_key, issued.secret),
    )
    session.add(row)
    await session.flush()
    return row, issued.token


async def create_developer(
    session: AsyncSession, keyring: Keyring, *, name: str, email: str
) -> tuple[Developer, DeveloperKey, str]:
    """A developer and their first key; the key itself is returned once and never stored."""
    clean_name, address = check_name(name), check_email(email)
    if await session.scalar(select(Developer.id).where(Developer.email == address)) is not None:
        raise Conflict("A developer with this email already exists.")
    developer = Developer(name=clean_name, email=address)
    session.add(developer)
    await session.flush()
    row, token = await _new_key(session, keyring, developer)
    return developer, row, token


async def replace_keys(
    session: AsyncSession, keyring: Keyring, developer: Developer
) -> tuple[DeveloperKey, str]:
    """Revoke every live key of the developer and issue one new key (the demo does this on each run)."""
    await session.execute(
        update(DeveloperKey)
        .where(DeveloperKey.developer_id == developer.id, DeveloperKey.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return await _new_key(session, keyring, developer)


async def authenticate(session: AsyncSession, keyring: Keyring, token: str) -> AuthenticatedDeveloper:
    """The developer behind a live `gw_dk_…` key, or 401 without saying why."""
    presented = api_keys.parse(token)
    if presented is None or presented.kind != KIND:
        raise invalid_key()
    row = await session.scalar(select(DeveloperKey).where(DeveloperKey.prefix == presented.prefix))
    hashing_key = await keyring.secret(session, API_KEY_HASHING_SECRET)
    stored, revoked = (row.secret_hash, row.revoked_at) if row is not None else (None, None)
    if row is None or not api_keys.live_key_matches(hashing_key, presented.secret, stored, revoked):
        raise invalid_key()
    developer = await session.get(Developer, row.developer_id)
    assert developer is not None  # keys cascade with their developer
    if (used := api_keys.last_used_update(row.last_used_at, utcnow())) is not None:
        row.last_used_at = used
    return AuthenticatedDeveloper(developer, row)


async def rotate_key(
    session: AsyncSession, keyring: Keyring, caller: AuthenticatedDeveloper
) -> tuple[DeveloperKey, str]:
    """Revoke the presenting key and issue its successor, shown once. 401 if the key was revoked meanwhile."""
    revoked = await changed_rows(
        session,
        update(DeveloperKey)
        .where(DeveloperKey.id == caller.key.id, DeveloperKey.revoked_at.is_(None))
        .values(revoked_at=utcnow()),
        synchronize="fetch",
    )
    if not revoked:
        raise invalid_key()
    return await _new_key(session, keyring, caller.developer)
