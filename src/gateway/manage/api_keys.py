"""School API keys (SPEC §1, §7): created by the school, shown once, HMAC-SHA-256 at rest, revocable.

Creating and revoking a key are written to the school's authorisation log (SPEC §4) with the key's
prefix only; its name is a label the school chose and stays out of the hash-chained log.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.events import EventType
from gateway.audit.service import record_event
from gateway.db.base import utcnow
from gateway.errors import NotFound, Unauthorized
from gateway.keys import api_keys
from gateway.keys.keyring import API_KEY_HASHING_SECRET, Keyring
from gateway.manage.models import SchoolApiKey
from gateway.manage.principal import SchoolPrincipal
from gateway.manage.repository import SchoolApiKeys, key_by_prefix

KIND = "sk"
BEARER_CHALLENGE = {"www-authenticate": 'Bearer realm="manage"'}


def invalid_key() -> Unauthorized:
    """The one answer for a malformed, unknown, wrong or revoked key: nothing says which."""
    return Unauthorized("The school API key is not valid.", headers=BEARER_CHALLENGE)


async def create_key(
    session: AsyncSession, keyring: Keyring, principal: SchoolPrincipal, name: str
) -> tuple[SchoolApiKey, str]:
    """Returns the stored row and the key itself, which is never stored or shown again."""
    issued = api_keys.issue(KIND)
    hashing_key = await keyring.secret(session, API_KEY_HASHING_SECRET)
    row = await SchoolApiKeys(session, principal.school_id).add(
        SchoolApiKey(
            school_id=principal.school_id,
            prefix=issued.prefix,
            secret_hash=api_keys.keyed_hash(hashing_key, issued.secret),
            name=name,
            created_by_admin_id=principal.admin_id,
        )
    )
    await record_event(
        session,
        school_id=principal.school_id,
        event_type=EventType.API_KEY_CREATED,
        actor=principal.actor,
        details={"prefix": row.prefix},
    )
    return row, issued.token


async def list_keys(session: AsyncSession, principal: SchoolPrincipal) -> list[SchoolApiKey]:
    return await SchoolApiKeys(session, principal.school_id).all()


async def revoke_key(session: AsyncSession, principal: SchoolPrincipal, prefix: str) -> None:
    """Revoke one of the school's keys; its next request is refused. Revoking twice changes nothing."""
    keys = SchoolApiKeys(session, principal.school_id)
    if await keys.get(prefix) is None:
        raise NotFound(f"No API key with prefix {prefix}.")
    if await keys.revoke(prefix, utcnow()):
        await record_event(
            session,
            school_id=principal.school_id,
            event_type=EventType.API_KEY_REVOKED,
            actor=principal.actor,
            details={"prefix": prefix},
        )


async def authenticate(session: AsyncSession, keyring: Keyring, token: str) -> SchoolPrincipal:
    """The school behind a live `gw_sk_…` key, or 401 without saying why."""
    presented = api_keys.parse(token)
    if presented is None or presented.kind != KIND:
        raise invalid_key()
    row = await key_by_prefix(session, presented.prefix)
    hashing_key = await keyring.secret(session, API_KEY_HASHING_SECRET)
    stored, revoked = (row.secret_hash, row.revoked_at) if row is not None else (None, None)
    if row is None or not api_keys.live_key_matches(hashing_key, presented.secret, stored, revoked):
        raise invalid_key()
    if (used := api_keys.last_used_update(row.last_used_at, utcnow())) is not None:
        row.last_used_at = used
    return SchoolPrincipal(school_id=row.school_id, api_key_prefix=row.prefix)
