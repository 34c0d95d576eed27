"""Signing keys on both databases: rotation and the published keys, wrapping at rest, master-key rotation,
CLI. The JWKS endpoint itself is tests/oauth/test_jwks.py."""

from __future__ import annotations

import base64
import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.base import utcnow
from gateway.keys.envelope import DecryptionFailed, master_key_id
from gateway.keys.keyring import foreign_master_key_ids, rewrap_all
from gateway.keys.models import SigningKey
from gateway.keys.signing import (
    PUBLISHED_AFTER_RETIREMENT,
    _new_row,
    active_signing_key,
    ensure_signing_key,
    private_key,
    published_keys,
    rotate_signing_key,
    verification_keys,
)
from gateway.tokens.access_tokens import mint_access_token, verify_access_token
from tests.support.cli import gateway
from tests.support.databases import throwaway_database
from tests.support.jwks import PUBLIC_MEMBERS

ISSUER = "https://gateway.example"


def mint(key: object, now: object) -> str:
    token, _ = mint_access_token(
        key,  # type: ignore[arg-type]
        issuer=ISSUER,
        client_id="app",
        school_id="s1",
        grant_id="g1",
        scopes=["school"],
        audience=ISSUER,
        now=now,  # type: ignore[arg-type]
    )
    return token


async def test_first_key_is_created_once(session: AsyncSession, master_key: bytes) -> None:
    first = await ensure_signing_key(session, master_key)
    again = await ensure_signing_key(session, master_key)
    assert first.kid == again.kid
    assert first.algorithm == "ES256"
    assert first.retired_at is None
    assert first.master_key_id == master_key_id(master_key)
    assert (await active_signing_key(session, master_key)).kid == first.kid
    assert len((await session.scalars(select(SigningKey))).all()) == 1


async def test_round_trip_through_the_published_keys(session: AsyncSession, master_key: bytes) -> None:
    now = utcnow()
    token = mint(await active_signing_key(session, master_key), now)
    keys = await verification_keys(session, now=now, kid=None)
    assert verify_access_token(token, keys, issuer=ISSUER, audience=ISSUER, now=now).grant_id == "g1"


async def test_rotation_keeps_the_old_key_published_until_its_tokens_expire(
    session: AsyncSession, master_key: bytes
) -> None:
    now = utcnow()
    old = await ensure_signing_key(session, master_key, now=now)
    old_token = mint(await active_signing_key(session, master_key), now)

    rotated_at = now + timedelta(hours=1)
    new = await rotate_signing_key(session, master_key, now=rotated_at)
    assert new.kid != old.kid
    assert (await active_signing_key(session, master_key)).kid == new.kid
    assert old.retired_at == rotated_at
    assert old.expires_at == rotated_at + PUBLISHED_AFTER_RETIREMENT
    assert [k["kid"] for k in await published_keys(session, now=rotated_at)] == [new.kid, old.kid]

    # A token signed just before rotation still verifies at the end of its life.
    last_moment = rotated_at + timedelta(seconds=899)
    late_token = mint(private_key(master_key, old), rotated_at - timedelta(seconds=1))
    keys = await verification_keys(session, now=last_moment, kid=old.kid)
    assert verify_access_token(late_token, keys, issuer=ISSUER, audience=ISSUER, now=last_moment)
    assert old_token  # signed an hour earlier: expired, but its key is what matters here

    after = old.expires_at
    assert after is not None
    assert [k["kid"] for k in await published_keys(session, now=after)] == [new.kid]
    assert [k["kid"] for k in await published_keys(session, now=after - timedelta(seconds=1))] == [
        new.kid,
        old.kid,
    ]

    # The next rotation deletes keys whose publication has ended.
    newest = await rotate_signing_key(session, master_key, now=after + timedelta(days=1))
    kids = set(await session.scalars(select(SigningKey.kid)))
    assert kids == {new.kid, newest.kid}


async def test_an_unknown_kid_reloads_at_once(session: AsyncSession, master_key: bytes) -> None:
    now = utcnow()
    first = await ensure_signing_key(session, master_key, now=now)
    assert [k["kid"] for k in await published_keys(session, now=now)] == [first.kid]
    # Another process rotates: this process's cache knows nothing of it.
    await session.execute(
        update(SigningKey).values(retired_at=now, expires_at=now + PUBLISHED_AFTER_RETIREMENT)
    )
    other = _new_row(master_key, now)
    session.add(other)
    await session.flush()
    assert [k["kid"] for k in await published_keys(session, now=now)] == [first.kid]  # cached
    keys = await verification_keys(session, now=now, kid=other.kid)
    assert set(keys) == {first.kid, other.kid}
    token = mint(private_key(master_key, other), now)
    assert verify_access_token(token, keys, issuer=ISSUER, audience=ISSUER, now=now)


async def test_no_private_key_material_in_the_clear(session: AsyncSession, master_key: bytes) -> None:
    now = utcnow()
    await ensure_signing_key(session, master_key, now=now)
    await rotate_signing_key(session, master_key, now=now)
    rows = (await session.scalars(select(SigningKey))).all()
    stored = "\n".join(
        repr((r.kid, r.algorithm, r.wrapped_private_jwk, r.public_jwk, r.master_key_id)) for r in rows
    )
    for row in rows:
        private = private_key(master_key, row).as_dict(private=True)
        d = str(private["d"])
        assert d not in stored
        assert base64.urlsafe_b64decode(d + "=" * (-len(d) % 4)) not in row.wrapped_private_jwk
        assert set(json.loads(row.public_jwk)) == PUBLIC_MEMBERS
    for jwk in await published_keys(session, now=now):
        assert set(jwk) == PUBLIC_MEMBERS


async def test_the_wrapping_is_bound_to_the_kid(session: AsyncSession, master_key: bytes) -> None:
    row = await ensure_signing_key(session, master_key)
    other = _new_row(master_key, utcnow())
    other.wrapped_private_jwk = row.wrapped_private_jwk
    with pytest.raises(DecryptionFailed):
        private_key(master_key, other)


async def test_master_key_rotation_rewraps_signing_keys(session: AsyncSession, master_key: bytes) -> None:
    now = utcnow()
    await ensure_signing_key(session, master_key, now=now)
    await rotate_signing_key(session, master_key, now=now)
    new_master = os.urandom(32)
    _school_keys, secrets = await rewrap_all(session, master_key, new_master)
    assert secrets >= 2  # both signing keys count among the server secrets
    rows = (await session.scalars(select(SigningKey))).all()
    assert {r.master_key_id for r in rows} == {master_key_id(new_master)}
    assert await foreign_master_key_ids(session, master_key_id(new_master)) == set()
    with pytest.raises(DecryptionFailed):
        await active_signing_key(session, master_key)
    token = mint(await active_signing_key(session, new_master), now)
    keys = await verification_keys(session, now=now, kid=None)
    assert verify_access_token(token, keys, issuer=ISSUER, audience=ISSUER, now=now).school_id == "s1"


async def test_a_key_under_another_master_key_is_reported(session: AsyncSession, master_key: bytes) -> None:
    await ensure_signing_key(session, os.urandom(32))
    assert len(await foreign_master_key_ids(session, master_key_id(master_key))) == 1


async def test_cli_rotate_signing_and_rotate_master(tmp_path: Path) -> None:
    async with throwaway_database(tmp_path) as url:
        master = base64.b64encode(os.urandom(32)).decode()
        env = {"GATEWAY_DATABASE_URL": url, "GATEWAY_MASTER_KEY": master, "GATEWAY_DATA_DIR": str(tmp_path)}
        assert gateway("migrate", env=env).returncode == 0
        first = gateway("keys", "rotate-signing", "--json", env=env)
        assert first.returncode == 0, first.stderr
        first_kid = json.loads(first.stdout)["kid"]
        second = gateway("keys", "rotate-signing", env=env)
        assert second.returncode == 0, second.stderr
        lines = second.stdout.splitlines()
        assert lines[0].startswith("new signing key ")
        assert first_kid not in lines[0]
        assert lines[1].startswith(f"still published: {first_kid} until ")

        new_master = base64.b64encode(os.urandom(32)).decode()
        rotated = gateway("keys", "rotate-master", env={**env, "GATEWAY_NEW_MASTER_KEY": new_master})
        assert rotated.returncode == 0, rotated.stderr
        assert "re-wrapped 0 school data keys and 2 server secrets" in rotated.stdout
        after = gateway("keys", "rotate-signing", env={**env, "GATEWAY_MASTER_KEY": new_master})
        assert after.returncode == 0, after.stderr
