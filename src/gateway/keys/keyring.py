"""Opens data keys and server secrets under the master key, and caches them for the process.

Per-school data keys are created on first use and wrapped by the master key; only their wrapped form
is ever stored. The cache holds unwrapped keys in memory only; `forget` drops a shredded school's key.
"""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.guarded import changed_rows
from gateway.db.session import autocommits
from gateway.keys.envelope import master_key_id, new_key, unwrap, wrap
from gateway.keys.models import SchoolKey, ServerSecret, SigningKey
from gateway.keys.signing import signing_key_purpose

API_KEY_HASHING_SECRET = "api-key-hmac"  # noqa: S105 (a name, not a secret)


class KeyShredded(Exception):
    """The school's data key no longer exists: its records can never be read again."""


def _school_key_purpose(school_id: uuid.UUID, key_id: uuid.UUID) -> bytes:
    return f"school-key|{school_id}|{key_id}".encode()


def _secret_purpose(name: str) -> bytes:
    return f"server-secret|{name}".encode()


class Keyring:
    def __init__(self, master_key: bytes) -> None:
        self.master_key = master_key
        self.master_key_id = master_key_id(master_key)
        self._school_keys: dict[tuple[uuid.UUID, uuid.UUID], bytes] = {}
        self._active: dict[uuid.UUID, uuid.UUID] = {}
        self._secrets: dict[str, bytes] = {}

    async def active_key(self, session: AsyncSession, school_id: uuid.UUID) -> tuple[uuid.UUID, bytes]:
        """The key new records of this school are sealed with, created on first use.

        Callers hold the school's row lock (`RecordRepository.allocate_change_seqs`) first, so two first
        batches cannot both create a key; the partial unique index is the backstop.
        """
        key_id = self._active.get(school_id)
        if key_id is not None and (school_id, key_id) in self._school_keys:
            # Another process may have shredded it since it was cached: sealing under a deleted key would
            # store records nobody can open. One primary-key lookup per batch written.
            if await session.scalar(select(SchoolKey.id).where(SchoolKey.id == key_id)) is not None:
                return key_id, self._school_keys[(school_id, key_id)]
            self.forget(school_id)
        row = await session.scalar(
            select(SchoolKey).where(SchoolKey.school_id == school_id, SchoolKey.active.is_(True))
        )
        if row is None:
            row = await self._create_school_key(session, school_id)
        key = self._unwrap_school_key(row)
        self._active[school_id] = row.id
        return row.id, key

    async def key(self, session: AsyncSession, school_id: uuid.UUID, key_id: uuid.UUID) -> bytes:
        cached = self._school_keys.get((school_id, key_id))
        if cached is not None:
            return cached
        row = await session.scalar(
            select(SchoolKey).where(SchoolKey.school_id == school_id, SchoolKey.id == key_id)
        )
        if row is None:
            raise KeyShredded
        return self._unwrap_school_key(row)

    async def shred(self, session: AsyncSession, school_id: uuid.UUID) -> int:
        """Delete every data key of the school: all its ciphertext, in every copy, becomes unreadable."""
        deleted = await changed_rows(
            session, delete(SchoolKey).where(SchoolKey.school_id == school_id), synchronize="auto"
        )
        self.forget(school_id)
        return deleted

    def forget(self, school_id: uuid.UUID) -> None:
        self._active.pop(school_id, None)
        for cached in [k for k in self._school_keys if k[0] == school_id]:
            del self._school_keys[cached]

    async def secret(self, session: AsyncSession, name: str) -> bytes:
        """A server-wide random secret, created once and stored wrapped."""
        cached = self._secrets.get(name)
        if cached is not None:
            return cached
        row = await session.get(ServerSecret, name)
        if row is None:
            values = {
                "name": name,
                "wrapped_value": wrap(self.master_key, secrets.token_bytes(32), _secret_purpose(name)),
                "master_key_id": self.master_key_id,
            }
            if autocommits(session):  # no savepoint outside a transaction: one statement (PostgreSQL)
                await session.execute(postgresql.insert(ServerSecret).values(values).on_conflict_do_nothing())
            else:
                try:
                    async with session.begin_nested():
                        session.add(ServerSecret(**values))
                except IntegrityError:  # another process created it first: use theirs
                    pass
            row = await session.get(ServerSecret, name, populate_existing=True)
            assert row is not None
        value = unwrap(self.master_key, row.wrapped_value, _secret_purpose(name))
        self._secrets[name] = value
        return value

    async def _create_school_key(self, session: AsyncSession, school_id: uuid.UUID) -> SchoolKey:
        key_id = uuid.uuid4()
        row = SchoolKey(
            id=key_id,
            school_id=school_id,
            wrapped_key=wrap(self.master_key, new_key(), _school_key_purpose(school_id, key_id)),
            master_key_id=self.master_key_id,
            active=True,
        )
        session.add(row)
        await session.flush()
        return row

    def _unwrap_school_key(self, row: SchoolKey) -> bytes:
        key = unwrap(self.master_key, row.wrapped_key, _school_key_purpose(row.school_id, row.id))
        self._school_keys[(row.school_id, row.id)] = key
        return key


async def foreign_master_key_ids(session: AsyncSession, current_id: str) -> set[str]:
    """Ids of master keys, other than the current one, that still wrap stored keys."""
    ids = set(await session.scalars(select(SchoolKey.master_key_id).distinct()))
    ids |= set(await session.scalars(select(ServerSecret.master_key_id).distinct()))
    ids |= set(await session.scalars(select(SigningKey.master_key_id).distinct()))
    ids.discard(current_id)
    return ids


async def rewrap_all(session: AsyncSession, old_master: bytes, new_master: bytes) -> tuple[int, int]:
    """Re-wrap every data key and server secret under a new master key; records are not touched.

    Returns (school data keys, server secrets); token signing keys count among the server secrets.
    """
    new_id = master_key_id(new_master)
    school_keys = (await session.scalars(select(SchoolKey))).all()
    for row in school_keys:
        purpose = _school_key_purpose(row.school_id, row.id)
        row.wrapped_key = wrap(new_master, unwrap(old_master, row.wrapped_key, purpose), purpose)
        row.master_key_id = new_id
    server_secrets = (await session.scalars(select(ServerSecret))).all()
    for secret in server_secrets:
        purpose = _secret_purpose(secret.name)
        secret.wrapped_value = wrap(new_master, unwrap(old_master, secret.wrapped_value, purpose), purpose)
        secret.master_key_id = new_id
    signing_keys = (await session.scalars(select(SigningKey))).all()
    for signing_key in signing_keys:
        purpose = signing_key_purpose(signing_key.kid)
        signing_key.wrapped_private_jwk = wrap(
            new_master, unwrap(old_master, signing_key.wrapped_private_jwk, purpose), purpose
        )
        signing_key.master_key_id = new_id
    await session.flush()
    return len(school_keys), len(server_secrets) + len(signing_keys)
