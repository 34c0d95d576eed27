"""Client ids, client secrets, and the token endpoint's client authentication through rotations (the
previous secret works in the overlap)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps import credentials, service
from gateway.apps.models import AuthMethod
from gateway.apps.validation import AppDraft
from gateway.db.base import utcnow
from gateway.keys.keyring import Keyring
from tests.support.apps import secret_accepted
from tests.support.developers import DeveloperWithKey

KEY = b"k" * 32
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def test_shapes() -> None:
    client_id = credentials.new_client_id()
    assert re.fullmatch(r"gw_app_[A-Za-z0-9_-]{16}", client_id)
    secret = credentials.new_client_secret()
    assert re.fullmatch(r"gw_cs_[A-Za-z0-9_-]{43}", secret)
    assert credentials.new_client_secret() != secret
    assert len(credentials.secret_hash(KEY, secret)) == 32
    assert credentials.secret_hash(KEY, secret) != credentials.secret_hash(b"j" * 32, secret)


def test_secret_matches_current_previous_and_nothing_else() -> None:
    old, new, other = (credentials.new_client_secret() for _ in range(3))
    hashes = {
        "current": credentials.secret_hash(KEY, new),
        "previous": credentials.secret_hash(KEY, old),
    }

    def matches(presented: str, expires_at: datetime | None) -> bool:
        return credentials.secret_matches(KEY, presented, previous_expires_at=expires_at, now=NOW, **hashes)

    later = NOW + timedelta(hours=1)
    assert matches(new, later)
    assert matches(new, None)
    assert matches(old, later)
    assert not matches(old, NOW)  # expiry is exclusive
    assert not matches(old, NOW - timedelta(seconds=1))
    assert not matches(old, None)
    assert not matches(other, later)
    assert not matches("", later)
    assert not matches(new + "x", later)
    assert not matches(new[:-1], later)
    assert not matches("gw_cs_" + "\u00e9" * 43, later)
    assert not credentials.secret_matches(
        KEY, new, current=None, previous=None, previous_expires_at=None, now=NOW
    )


def _draft(method: AuthMethod) -> AppDraft:
    return AppDraft(
        name="Planner",
        description="",
        redirect_uris=("https://planner.example.com/cb",),
        required_scopes="school",
        optional_scopes="",
        token_endpoint_auth_method=method,
        privacy_policy_url="https://planner.example.com/privacy",
        support_url="https://planner.example.com/support",
        webhook_url=None,
    )


async def test_client_authentication_through_a_rotation(
    session: AsyncSession, keyring: Keyring, developer: DeveloperWithKey
) -> None:
    owner = developer.developer.id
    app, first, _webhook_secret = await service.register(
        session, keyring, owner, _draft(AuthMethod.CLIENT_SECRET_POST)
    )
    assert first is not None
    assert await secret_accepted(session, keyring, app, first)
    assert not await secret_accepted(session, keyring, app, credentials.new_client_secret())

    app, second = await service.rotate_secret(session, keyring, owner, app.client_id)
    assert app.previous_secret_expires_at is not None
    overlap = app.previous_secret_expires_at - utcnow()
    assert timedelta(hours=23, minutes=59) < overlap <= timedelta(hours=24)
    assert await secret_accepted(session, keyring, app, second)
    assert await secret_accepted(session, keyring, app, first)

    app.previous_secret_expires_at = utcnow() - timedelta(seconds=1)
    await session.flush()
    assert not await secret_accepted(session, keyring, app, first)
    assert await secret_accepted(session, keyring, app, second)

    app, third = await service.rotate_secret(session, keyring, owner, app.client_id)
    assert await secret_accepted(session, keyring, app, third)
    assert await secret_accepted(session, keyring, app, second)
    assert not await secret_accepted(session, keyring, app, first)


async def test_a_public_client_is_refused_any_secret(
    session: AsyncSession, keyring: Keyring, developer: DeveloperWithKey
) -> None:
    app, secret, _webhook_secret = await service.register(
        session, keyring, developer.developer.id, _draft(AuthMethod.NONE)
    )
    assert secret is None
    assert app.client_secret_hash is None
    for sent_by in (AuthMethod.CLIENT_SECRET_BASIC, AuthMethod.CLIENT_SECRET_POST):
        assert not await secret_accepted(session, keyring, app, "", method=sent_by)
        assert not await secret_accepted(
            session, keyring, app, credentials.new_client_secret(), method=sent_by
        )
