"""Which code and token rows the purge deletes (`tokens.expiry`): exactly those nothing can use any more."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.base import utcnow
from gateway.keys.keyring import Keyring
from gateway.keys.signing_policy import CLOCK_SKEW
from gateway.oauth.grant_types import authorization_code
from gateway.oauth.grant_types.base import RefusedAfterRevoking, TokenContext
from gateway.tokens.codes import CODE_LIFETIME, find_code
from gateway.tokens.expiry import PURGE_MARGIN, purge_expired_tokens
from tests.support.apps import REDIRECT_URI
from tests.support.backchannel import ISSUER, connect, make_code, refresh_rows
from tests.support.expired_rows import KEPT_UNTIL_AT_MOST, primary_keys, seed
from tests.support.pkce import Pkce

TOKEN_TABLES = ("authorization_codes", "refresh_tokens", "access_tokens")


def test_the_margin_outlasts_the_verifiers_leeway() -> None:
    assert PURGE_MARGIN > CLOCK_SKEW


async def test_the_purge_deletes_exactly_the_expired_rows(session: AsyncSession, keyring: Keyring) -> None:
    now = utcnow()
    seeded = await seed(session, await connect(session, keyring), now=now)
    before = await primary_keys(session)

    purged = await purge_expired_tokens(session, now=now)
    after = await primary_keys(session)

    for table in TOKEN_TABLES:
        deleted = before[table] - after[table]
        assert getattr(purged, table) == len(deleted), table
        assert deleted & (seeded.doomed[table] | seeded.kept[table]) == seeded.doomed[table], table
        assert seeded.kept[table] <= after[table], table
    assert purged.counts() == {table: getattr(purged, table) for table in TOKEN_TABLES}


async def test_moving_time_on_deletes_the_rest_and_a_second_run_deletes_nothing(
    session: AsyncSession, keyring: Keyring
) -> None:
    now = utcnow()
    seeded = await seed(session, await connect(session, keyring), now=now)
    await purge_expired_tokens(session, now=now)

    await purge_expired_tokens(session, now=now + KEPT_UNTIL_AT_MOST)
    after = await primary_keys(session)
    for table in TOKEN_TABLES:
        assert not seeded.kept[table] & after[table], table
    again = await purge_expired_tokens(session, now=now + KEPT_UNTIL_AT_MOST)
    assert set(again.counts().values()) == {0}


async def test_a_used_code_is_kept_while_a_replay_must_still_revoke_its_family(
    session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    pkce = Pkce()
    issued_at = utcnow()
    code = await make_code(session, connected.registered.app, connected.grant, pkce, now=issued_at)
    client = connected.registered.authenticated()
    request = authorization_code.CodeRequest(code, REDIRECT_URI, pkce.verifier)
    await authorization_code.exchange_code(TokenContext(session, keyring, client, ISSUER, issued_at), request)
    await session.commit()
    code_row = await find_code(session, code)
    assert code_row is not None
    [refresh_row] = await refresh_rows(session, code_row.id)

    later = issued_at + CODE_LIFETIME + PURGE_MARGIN + timedelta(hours=1)
    await purge_expired_tokens(session, now=later)
    # Expired, but its refresh token is live: a replay must still be recognised.
    assert str(code_row.id) in (await primary_keys(session))["authorization_codes"]

    replayed = TokenContext(session, keyring, client, ISSUER, later)
    with pytest.raises(RefusedAfterRevoking):
        await authorization_code.exchange_code(replayed, request)
    await session.commit()
    [refresh_row] = await refresh_rows(session, code_row.id)
    assert refresh_row.revoked_at == later

    await purge_expired_tokens(session, now=later)
    remaining = await primary_keys(session)
    assert str(code_row.id) not in remaining["authorization_codes"]  # nothing left for a replay to revoke
    assert str(refresh_row.id) in remaining["refresh_tokens"]  # revoked, not expired: kept until then
