"""`POST /oauth/introspect` (RFC 7662): a confidential client sees its own tokens only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.models import AuthMethod
from gateway.consent.grants import revoke_grant
from gateway.consent.models import Grant
from gateway.db.base import utcnow
from gateway.keys.keyring import Keyring
from gateway.oauth import introspect as introspection
from gateway.oauth.grant_types.base import TokenContext
from gateway.oauth.grant_types.client_credentials import ClientCredentialsRequest, client_credentials
from gateway.tokens import hashing
from gateway.tokens.models import IssuedAccessToken, RefreshToken
from tests.support.backchannel import (
    ISSUER,
    Registered,
    assert_oauth_error,
    basic,
    connect,
    exchange,
    jwt_claims,
    post_form,
    register,
)


async def introspect(client: httpx.AsyncClient, registered: Registered, token: str) -> dict[str, Any]:
    headers, credentials = registered.credentials()
    response = await post_form(client, "/oauth/introspect", {"token": token, **credentials}, headers)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    return body


async def app_token(client: httpx.AsyncClient, registered: Registered) -> str:
    assert registered.secret is not None
    response = await post_form(
        client,
        "/oauth/token",
        {"grant_type": "client_credentials"},
        basic(registered.client_id, registered.secret),
    )
    token: str = response.json()["access_token"]
    return token


@pytest.mark.parametrize("method", [AuthMethod.CLIENT_SECRET_BASIC, AuthMethod.CLIENT_SECRET_POST])
async def test_an_own_active_school_token_is_described(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring, method: AuthMethod
) -> None:
    connected = await connect(session, keyring, method)
    tokens = await exchange(client, connected, session)
    claims = jwt_claims(tokens["access_token"])

    body = await introspect(client, connected.registered, tokens["access_token"])

    assert body == {
        "active": True,
        "scope": "school groups students.basic",
        "client_id": connected.registered.client_id,
        "token_type": "Bearer",
        "exp": claims["exp"],
        "iat": claims["iat"],
        "sub": f"school:{connected.school.id}",
        "aud": f"{ISSUER}/api/v1",
        "iss": ISSUER,
        "jti": claims["jti"],
        "school_id": str(connected.school.id),
        "grant_id": str(connected.grant.id),
    }


async def test_an_own_app_level_token_is_described(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    registered = await register(session, keyring)
    token = await app_token(client, registered)

    body = await introspect(client, registered, token)

    assert body["active"] is True
    assert body["sub"] == registered.client_id
    assert body["scope"] == "school"
    assert "school_id" not in body
    assert "grant_id" not in body


async def test_another_clients_tokens_are_inactive(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    tokens = await exchange(client, connected, session)
    stranger = await register(session, keyring)

    for token in (
        tokens["access_token"],
        tokens["refresh_token"],
        await app_token(client, connected.registered),
    ):
        assert await introspect(client, stranger, token) == {"active": False}


async def test_a_revoked_access_token_is_inactive(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    tokens = await exchange(client, connected, session)
    app_level = await app_token(client, connected.registered)
    for token in (tokens["access_token"], app_level):
        headers, credentials = connected.registered.credentials()
        await post_form(client, "/oauth/revoke", {"token": token, **credentials}, headers)

    assert await introspect(client, connected.registered, tokens["access_token"]) == {"active": False}
    assert await introspect(client, connected.registered, app_level) == {"active": False}


async def test_a_revoked_grant_makes_its_tokens_inactive(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    tokens = await exchange(client, connected, session)
    await revoke_grant(session, connected.grant, actor="operator", now=utcnow())
    await session.commit()

    assert await introspect(client, connected.registered, tokens["access_token"]) == {"active": False}
    assert await introspect(client, connected.registered, tokens["refresh_token"]) == {"active": False}


async def test_a_narrowed_grant_narrows_the_introspected_scope(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    tokens = await exchange(client, connected, session)
    await session.execute(update(Grant).where(Grant.id == connected.grant.id).values(scopes="school groups"))
    await session.commit()

    assert (await introspect(client, connected.registered, tokens["access_token"]))[
        "scope"
    ] == "school groups"
    assert (await introspect(client, connected.registered, tokens["refresh_token"]))[
        "scope"
    ] == "school groups"


async def test_an_expired_access_token_is_inactive(session: AsyncSession, keyring: Keyring) -> None:
    registered = await register(session, keyring)
    issued_at = utcnow()
    context = TokenContext(session, keyring, registered.authenticated(), ISSUER, issued_at)
    minted = await client_credentials(context, ClientCredentialsRequest(None))

    async def active_at(seconds: int) -> bool:
        body = await introspection.introspect_token(
            session,
            registered.authenticated(),
            minted.access_token,
            issuer=ISSUER,
            now=issued_at + timedelta(seconds=seconds),
        )
        return bool(body["active"])

    assert await active_at(899)
    assert not await active_at(900)  # no leeway: expired is expired
    assert not await active_at(3600)


async def test_refresh_tokens_are_active_until_used_revoked_or_expired(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    tokens = await exchange(client, connected, session)
    refresh = tokens["refresh_token"]

    body = await introspect(client, connected.registered, refresh)
    assert body["active"] is True
    assert body["scope"] == "school groups students.basic"
    assert body["client_id"] == connected.registered.client_id
    assert body["grant_id"] == str(connected.grant.id)
    assert body["sub"] == f"school:{connected.school.id}"
    assert "token_type" not in body

    headers, credentials = connected.registered.credentials()
    rotated = await post_form(
        client,
        "/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": refresh, **credentials},
        headers,
    )
    successor = rotated.json()["refresh_token"]
    # Just used: a retry would still be honoured for 30 s, so it still counts as active.
    assert (await introspect(client, connected.registered, refresh))["active"] is True
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.token_hash == hashing.digest(refresh))
        .values(used_at=utcnow() - timedelta(minutes=1))
    )
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.token_hash == hashing.digest(successor))
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    await session.commit()
    assert await introspect(client, connected.registered, refresh) == {"active": False}
    assert await introspect(client, connected.registered, successor) == {"active": False}


@pytest.mark.parametrize("token", ["gw_rt_nothing", "nothing", "a.b.c", "eyJhbGciOiJub25lIn0.e30."])
async def test_unknown_tokens_are_inactive(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring, token: str
) -> None:
    registered = await register(session, keyring)
    assert await introspect(client, registered, token) == {"active": False}


async def test_a_public_client_cannot_introspect(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring, AuthMethod.NONE)
    tokens = await exchange(client, connected, session)
    response = await post_form(
        client,
        "/oauth/introspect",
        {"token": tokens["access_token"], "client_id": connected.registered.client_id},
    )
    assert "public" in assert_oauth_error(response, 401, "invalid_client")["error_description"]


async def test_introspection_needs_authentication_and_a_token(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    registered = await register(session, keyring)
    assert registered.secret is not None
    assert_oauth_error(await post_form(client, "/oauth/introspect", {"token": "x"}), 401, "invalid_client")
    missing = await post_form(client, "/oauth/introspect", {}, basic(registered.client_id, registered.secret))
    assert_oauth_error(missing, 400, "invalid_request")


async def test_a_school_token_whose_row_is_revoked_is_inactive(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    tokens = await exchange(client, connected, session)
    await session.execute(
        update(IssuedAccessToken)
        .where(IssuedAccessToken.jti == jwt_claims(tokens["access_token"])["jti"])
        .values(revoked_at=utcnow())
    )
    await session.commit()
    assert await introspect(client, connected.registered, tokens["access_token"]) == {"active": False}


@pytest.mark.parametrize("who", ["wrong_secret", "unknown_client", "malformed_client_id", "public_by_basic"])
async def test_a_valid_token_does_not_help_a_caller_that_fails_authentication(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring, who: str
) -> None:
    """The one-query path authenticates the caller exactly as the general one does."""
    connected = await connect(session, keyring)
    tokens = await exchange(client, connected, session)
    public = await register(session, keyring, AuthMethod.NONE)
    headers = {
        "wrong_secret": basic(connected.registered.client_id, "gw_cs_" + "x" * 43),
        "unknown_client": basic("gw_app_" + "y" * 16, "gw_cs_" + "x" * 43),
        "malformed_client_id": basic("not-a-client", "gw_cs_" + "x" * 43),
        "public_by_basic": basic(public.client_id, "gw_cs_" + "x" * 43),
    }[who]
    for token in (tokens["access_token"], tokens["refresh_token"]):
        response = await post_form(client, "/oauth/introspect", {"token": token}, headers)
        assert_oauth_error(response, 401, "invalid_client")
        assert response.headers["www-authenticate"] == 'Basic realm="gateway"'


async def test_authlib_clients_introspect_and_revoke_as_documented(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    """Interop: Authlib's own introspect_token and revoke_token (client_secret_basic) work unchanged."""
    from authlib.integrations.httpx_client import AsyncOAuth2Client

    connected = await connect(session, keyring)
    tokens = await exchange(client, connected, session)
    registered = connected.registered
    async with AsyncOAuth2Client(
        registered.client_id,
        registered.secret,
        token_endpoint_auth_method="client_secret_basic",
        transport=httpx.ASGITransport(app=app),
        base_url=ISSUER,
    ) as authlib_client:
        introspected = await authlib_client.introspect_token(
            f"{ISSUER}/oauth/introspect", token=tokens["access_token"]
        )
        assert introspected.json()["active"] is True
        revoked = await authlib_client.revoke_token(
            f"{ISSUER}/oauth/revoke", token=tokens["refresh_token"], token_type_hint="refresh_token"
        )
        assert revoked.status_code == 200
        again = await authlib_client.introspect_token(
            f"{ISSUER}/oauth/introspect", token=tokens["access_token"]
        )
        assert again.json() == {"active": False}  # the family, access token included, is revoked
