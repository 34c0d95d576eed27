"""`POST /oauth/revoke` (RFC 7009): a refresh token ends its family; an access token is denied."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.models import AuthMethod
from gateway.db.base import utcnow
from gateway.keys.keyring import Keyring
from gateway.oauth import revoke as revocation
from gateway.tokens.models import IssuedAccessToken
from tests.support.audit import family_events
from tests.support.backchannel import (
    ISSUER,
    Registered,
    access_rows,
    assert_oauth_error,
    basic,
    connect,
    exchange,
    family_id,
    jwt_claims,
    post_form,
    refresh_rows,
    register,
)


async def revoke(
    client: httpx.AsyncClient, registered: Registered, token: str, **extra: str
) -> httpx.Response:
    headers, credentials = registered.credentials()
    return await post_form(client, "/oauth/revoke", {"token": token, **extra, **credentials}, headers)


async def app_token(client: httpx.AsyncClient, registered: Registered) -> str:
    assert registered.secret is not None
    response = await post_form(
        client,
        "/oauth/token",
        {"grant_type": "client_credentials"},
        basic(registered.client_id, registered.secret),
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def access_row(session: AsyncSession, token: str) -> IssuedAccessToken | None:
    return await session.scalar(
        select(IssuedAccessToken)
        .where(IssuedAccessToken.jti == jwt_claims(token)["jti"])
        .execution_options(populate_existing=True)
    )


@pytest.mark.parametrize(
    "method", [AuthMethod.CLIENT_SECRET_BASIC, AuthMethod.CLIENT_SECRET_POST, AuthMethod.NONE]
)
async def test_revoking_a_refresh_token_ends_its_family(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring, method: AuthMethod
) -> None:
    connected = await connect(session, keyring, method)
    tokens = await exchange(client, connected, session)
    family = await family_id(session, tokens["refresh_token"])

    response = await revoke(
        client, connected.registered, tokens["refresh_token"], token_type_hint="refresh_token"
    )

    assert response.status_code == 200, response.text
    assert response.content == b""
    assert response.headers["cache-control"] == "no-store"
    assert all(row.revoked_at is not None for row in await refresh_rows(session, family))
    assert all(row.revoked_at is not None for row in await access_rows(session, family))
    events = await family_events(session, connected.school.id)
    assert [(e["reason"], e["actor"]) for e in events] == [
        ("revoked_by_app", f"app:{connected.registered.client_id}")
    ]
    refreshed = await post_form(
        client,
        "/oauth/token",
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            **connected.registered.credentials()[1],
        },
        connected.registered.credentials()[0],
    )
    assert_oauth_error(refreshed, 400, "invalid_grant")
    # Revoking again is fine and logs nothing more.
    assert (await revoke(client, connected.registered, tokens["refresh_token"])).status_code == 200
    assert len(await family_events(session, connected.school.id)) == 1


async def test_revoking_a_school_access_token_marks_its_row(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    tokens = await exchange(client, connected, session)

    response = await revoke(
        client, connected.registered, tokens["access_token"], token_type_hint="access_token"
    )

    assert response.status_code == 200
    row = await access_row(session, tokens["access_token"])
    assert row is not None
    assert row.revoked_at is not None
    # Only that token: the refresh token still works.
    family = await family_id(session, tokens["refresh_token"])
    assert all(row.revoked_at is None for row in await refresh_rows(session, family))


async def test_revoking_an_app_level_token_records_it(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    registered = await register(session, keyring)
    token = await app_token(client, registered)
    assert await access_row(session, token) is None  # not recorded at issue

    assert (await revoke(client, registered, token)).status_code == 200
    assert (await revoke(client, registered, token)).status_code == 200  # twice is harmless

    row = await access_row(session, token)
    assert row is not None
    assert row.revoked_at is not None
    assert row.grant_id is None
    assert row.family_id is None
    assert row.app_id == registered.app.id
    assert abs(row.expires_at.timestamp() - jwt_claims(token)["exp"]) < 1


async def test_another_clients_tokens_are_left_alone(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    tokens = await exchange(client, connected, session)
    their_app_token = await app_token(client, connected.registered)
    stranger = await register(session, keyring)

    for token in (tokens["refresh_token"], tokens["access_token"], their_app_token):
        assert (await revoke(client, stranger, token)).status_code == 200

    family = await family_id(session, tokens["refresh_token"])
    assert all(row.revoked_at is None for row in await refresh_rows(session, family))
    assert all(row.revoked_at is None for row in await access_rows(session, family))
    assert await access_row(session, their_app_token) is None
    assert await family_events(session, connected.school.id) == []


@pytest.mark.parametrize(
    "token",
    ["gw_rt_unknown", "not-a-token", "a.b.c", "eyJhbGciOiJub25lIn0.eyJqdGkiOiJ4In0.", "x" * 4000],
)
async def test_unknown_or_malformed_tokens_get_200(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring, token: str
) -> None:
    registered = await register(session, keyring)
    assert (await revoke(client, registered, token)).status_code == 200


async def test_any_token_type_hint_is_accepted_and_ignored(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    tokens = await exchange(client, connected, session)

    response = await revoke(
        client, connected.registered, tokens["access_token"], token_type_hint="refresh_token"
    )
    assert response.status_code == 200
    assert (await revoke(client, connected.registered, "x", token_type_hint="id_token")).status_code == 200
    row = await access_row(session, tokens["access_token"])
    assert row is not None
    assert row.revoked_at is not None


async def test_revocation_needs_client_authentication_and_a_token(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    registered = await register(session, keyring)
    assert registered.secret is not None
    unauthenticated = await post_form(client, "/oauth/revoke", {"token": "gw_rt_x"})
    wrong_secret = await post_form(
        client, "/oauth/revoke", {"token": "gw_rt_x"}, basic(registered.client_id, "gw_cs_" + "x" * 43)
    )
    missing = await post_form(client, "/oauth/revoke", {}, basic(registered.client_id, registered.secret))
    assert_oauth_error(unauthenticated, 401, "invalid_client")
    assert_oauth_error(wrong_secret, 401, "invalid_client")
    assert wrong_secret.headers["www-authenticate"] == 'Basic realm="gateway"'
    assert_oauth_error(missing, 400, "invalid_request")


async def test_an_expired_access_token_is_not_recorded(session: AsyncSession, keyring: Keyring) -> None:
    from gateway.oauth.client_auth import AuthenticatedClient
    from gateway.oauth.grant_types.base import TokenContext
    from gateway.oauth.grant_types.client_credentials import ClientCredentialsRequest, client_credentials

    registered = await register(session, keyring)
    issued_at = utcnow() - timedelta(hours=1)
    context = TokenContext(
        session, keyring, AuthenticatedClient(registered.app, registered.method), ISSUER, issued_at
    )
    minted = await client_credentials(context, ClientCredentialsRequest(None))
    await revocation.revoke_token(
        session, registered.authenticated(), minted.access_token, issuer=ISSUER, now=utcnow()
    )
    assert await access_row(session, minted.access_token) is None
