"""`grant_type=refresh_token`: rotation, the retry window, reuse detection, scope narrowing (RFC 6749 §6)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.consent.grants import revoke_grant
from gateway.consent.models import Grant
from gateway.db.base import utcnow
from gateway.keys.keyring import Keyring
from gateway.oauth.errors import InvalidGrant
from gateway.oauth.grant_types import refresh_token
from gateway.oauth.grant_types.base import IssuedTokens, RefusedAfterRevoking, TokenContext
from gateway.tokens import hashing, refresh
from gateway.tokens.models import RefreshToken
from tests.support.audit import family_events
from tests.support.backchannel import (
    ISSUER,
    Connected,
    access_rows,
    assert_oauth_error,
    connect,
    exchange,
    family_id,
    jwt_claims,
    refresh_rows,
    register,
    token_request,
)


async def refresh_over_http(
    client: httpx.AsyncClient, connected: Connected, token: str, **extra: str
) -> httpx.Response:
    return await token_request(
        client, connected.registered, {"grant_type": "refresh_token", "refresh_token": token, **extra}
    )


async def test_a_refresh_rotates_the_refresh_token(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    first = await exchange(client, connected, session)

    response = await refresh_over_http(client, connected, first["refresh_token"])

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["refresh_token"] != first["refresh_token"]
    assert body["refresh_token"].startswith("gw_rt_")
    assert body["scope"] == first["scope"]
    assert jwt_claims(body["access_token"])["jti"] != jwt_claims(first["access_token"])["jti"]
    family = await family_id(session, first["refresh_token"])
    rows = await refresh_rows(session, family)
    assert len(rows) == 2
    assert rows[0].used_at is not None
    assert rows[1].token_hash == hashing.digest(body["refresh_token"])
    assert rows[1].used_at is None
    assert len(await access_rows(session, family)) == 2
    # And the successor rotates in turn.
    again = await refresh_over_http(client, connected, body["refresh_token"])
    assert again.status_code == 200
    assert again.json()["refresh_token"] not in {first["refresh_token"], body["refresh_token"]}


async def test_a_retry_within_the_window_gets_the_same_successor(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    first = await exchange(client, connected, session)

    one = (await refresh_over_http(client, connected, first["refresh_token"])).json()
    two = (await refresh_over_http(client, connected, first["refresh_token"])).json()

    assert one["refresh_token"] == two["refresh_token"]
    assert one["access_token"] != two["access_token"]
    family = await family_id(session, first["refresh_token"])
    assert len(await refresh_rows(session, family)) == 2
    assert await family_events(session, connected.school.id) == []


async def test_a_use_after_the_window_revokes_the_family_and_is_logged(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    first = await exchange(client, connected, session)
    rotated = (await refresh_over_http(client, connected, first["refresh_token"])).json()
    family = await family_id(session, first["refresh_token"])
    # The first use was 31 seconds ago.
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.token_hash == hashing.digest(first["refresh_token"]))
        .values(used_at=utcnow() - refresh.REFRESH_RETRY_WINDOW - timedelta(seconds=1))
    )
    await session.commit()

    late = await refresh_over_http(client, connected, first["refresh_token"])

    assert "revoked" in assert_oauth_error(late, 400, "invalid_grant")["error_description"]
    assert all(row.revoked_at is not None for row in await refresh_rows(session, family))
    assert all(row.revoked_at is not None for row in await access_rows(session, family))
    events = await family_events(session, connected.school.id)
    assert [(e["reason"], e["family_id"], e["revoked_refresh"], e["revoked_access"]) for e in events] == [
        ("refresh_reuse", str(family), 2, 2)
    ]
    # The thief's successor is dead too, and trying again logs nothing more.
    assert_oauth_error(
        await refresh_over_http(client, connected, rotated["refresh_token"]), 400, "invalid_grant"
    )
    assert_oauth_error(
        await refresh_over_http(client, connected, first["refresh_token"]), 400, "invalid_grant"
    )
    assert len(await family_events(session, connected.school.id)) == 1


async def test_the_window_boundary_with_the_service_and_moved_time(
    session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    client = connected.registered.authenticated()
    token = refresh.new_refresh_token()
    started = utcnow()
    await refresh.add_refresh_token(
        session,
        token,
        family_id=connected.grant.id,  # any id names a family
        app_id=connected.registered.app.id,
        grant_id=connected.grant.id,
        school_id=connected.school.id,
        scopes=["school", "groups"],
        now=started,
    )

    async def use(seconds: float) -> IssuedTokens:
        context = TokenContext(session, keyring, client, ISSUER, started + timedelta(seconds=seconds))
        return await refresh_token.refresh(context, refresh_token.RefreshRequest(token, None))

    first = await use(1)
    assert (await use(1 + 30)).refresh_token == first.refresh_token  # exactly at the window's end
    with pytest.raises(RefusedAfterRevoking) as refused:
        await use(1 + 30.001)
    assert isinstance(refused.value.error, InvalidGrant)


async def test_scope_may_be_narrowed_on_refresh(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    first = await exchange(client, connected, session)

    narrowed = await refresh_over_http(client, connected, first["refresh_token"], scope="school groups")

    assert narrowed.status_code == 200, narrowed.text
    body = narrowed.json()
    assert body["scope"] == "school groups"
    assert jwt_claims(body["access_token"])["scope"] == "school groups"
    # The successor keeps the family's scope (RFC 6749 §6): the next refresh can have it all again.
    full = (await refresh_over_http(client, connected, body["refresh_token"])).json()
    assert full["scope"] == "school groups students.basic"


@pytest.mark.parametrize(
    "scope",
    [
        "students.sen",
        "students.sen students.demographics",
        "nonsense.scope",
        "school  groups",
        "school school",
    ],
)
async def test_scope_cannot_be_widened_on_refresh(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring, scope: str
) -> None:
    connected = await connect(session, keyring)
    first = await exchange(client, connected, session)

    response = await refresh_over_http(client, connected, first["refresh_token"], scope=scope)

    assert_oauth_error(response, 400, "invalid_scope")
    # Not consumed: the refused request rotated nothing.
    assert (await refresh_over_http(client, connected, first["refresh_token"])).status_code == 200


async def test_scopes_never_granted_are_left_out_of_a_refresh(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    first = await exchange(client, connected, session)
    granted = set(first["scope"].split())

    response = await refresh_over_http(
        client, connected, first["refresh_token"], scope=" ".join(sorted(granted | {"students.sen"}))
    )

    assert response.status_code == 200, response.text
    assert set(response.json()["scope"].split()) == granted


async def test_a_narrowed_grant_narrows_the_refreshed_token(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    first = await exchange(client, connected, session)
    await session.execute(update(Grant).where(Grant.id == connected.grant.id).values(scopes="school groups"))
    await session.commit()

    body = (await refresh_over_http(client, connected, first["refresh_token"])).json()

    assert body["scope"] == "school groups"


async def test_a_revoked_grant_ends_refreshing(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    first = await exchange(client, connected, session)
    await revoke_grant(session, connected.grant, actor="operator", now=utcnow())
    await session.commit()

    response = await refresh_over_http(client, connected, first["refresh_token"])

    assert_oauth_error(response, 400, "invalid_grant")


async def test_a_revoked_grant_is_refused_even_if_its_refresh_rows_were_missed(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    first = await exchange(client, connected, session)
    await session.execute(update(Grant).where(Grant.id == connected.grant.id).values(revoked_at=utcnow()))
    await session.commit()

    response = await refresh_over_http(client, connected, first["refresh_token"])

    assert "revoked" in assert_oauth_error(response, 400, "invalid_grant")["error_description"]


async def test_another_clients_refresh_token_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    first = await exchange(client, connected, session)
    thief = await register(session, keyring)

    response = await token_request(
        client, thief, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )

    assert_oauth_error(response, 400, "invalid_grant")
    assert (await refresh_over_http(client, connected, first["refresh_token"])).status_code == 200


async def test_an_expired_or_unknown_refresh_token_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    first = await exchange(client, connected, session)
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.token_hash == hashing.digest(first["refresh_token"]))
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    await session.commit()

    expired = await refresh_over_http(client, connected, first["refresh_token"])
    unknown = await refresh_over_http(client, connected, refresh.new_refresh_token())
    missing = await token_request(client, connected.registered, {"grant_type": "refresh_token"})

    assert_oauth_error(expired, 400, "invalid_grant")
    assert_oauth_error(unknown, 400, "invalid_grant")
    assert_oauth_error(missing, 400, "invalid_request")
