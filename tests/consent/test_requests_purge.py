"""Authorization requests are deleted once expired (`consent.requests.purge_expired_requests`)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.consent.requests import (
    REQUEST_LIFETIME,
    RequestGone,
    keep_request,
    open_pending,
    purge_expired_requests,
)
from gateway.db.base import utcnow
from gateway.keys.keyring import Keyring
from gateway.tokens.expiry import PURGE_MARGIN
from tests.support.apps import REDIRECT_URI
from tests.support.backchannel import connect
from tests.support.expired_rows import KEPT_UNTIL_AT_MOST, primary_keys, seed
from tests.support.pkce import Pkce


async def test_expired_requests_go_answered_or_not_and_live_ones_stay(
    session: AsyncSession, keyring: Keyring
) -> None:
    now = utcnow()
    seeded = await seed(session, await connect(session, keyring), now=now)
    before = (await primary_keys(session))["authorization_requests"]

    deleted = await purge_expired_requests(session, now=now)
    after = (await primary_keys(session))["authorization_requests"]
    mine = seeded.doomed["authorization_requests"] | seeded.kept["authorization_requests"]
    assert deleted == len(before - after)
    assert (before - after) & mine == seeded.doomed["authorization_requests"]
    assert seeded.kept["authorization_requests"] <= after

    await purge_expired_requests(session, now=now + KEPT_UNTIL_AT_MOST)
    assert not (await primary_keys(session))["authorization_requests"] & mine


async def test_a_request_is_kept_for_its_lifetime_and_the_margin(
    session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    stored_at = utcnow()
    pending = await keep_request(
        session,
        app_id=connected.registered.app.id,
        redirect_uri=REDIRECT_URI,
        state="s",
        code_challenge=Pkce().challenge,
        scopes=["school"],
        school_id=None,
        now=stored_at,
    )
    await session.commit()
    expired = stored_at + REQUEST_LIFETIME
    await purge_expired_requests(session, now=expired + PURGE_MARGIN - timedelta(seconds=1))
    assert pending.id in (await primary_keys(session))["authorization_requests"]
    with pytest.raises(RequestGone):  # nothing reads it after expiry anyway
        await open_pending(session, pending.id, now=expired)

    await purge_expired_requests(session, now=expired + PURGE_MARGIN)
    assert pending.id not in (await primary_keys(session))["authorization_requests"]
