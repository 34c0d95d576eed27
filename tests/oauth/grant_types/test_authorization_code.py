"""`grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636, RFC 9700 §4.5): one check per test."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.models import AuthMethod
from gateway.consent.models import Grant
from gateway.db.base import utcnow
from gateway.keys.keyring import Keyring
from gateway.keys.signing import verification_keys
from gateway.oauth.errors import InvalidGrant
from gateway.oauth.grant_types import authorization_code
from gateway.oauth.grant_types.base import IssuedTokens, TokenContext
from gateway.tokens import hashing
from gateway.tokens.access_tokens import verify_access_token
from gateway.tokens.models import AuthorizationCode
from tests.support.apps import LOOPBACK_REDIRECT, REDIRECT_URI
from tests.support.audit import family_events
from tests.support.backchannel import (
    ISSUER,
    Connected,
    access_rows,
    assert_oauth_error,
    connect,
    exchange,
    jwt_claims,
    make_code,
    refresh_rows,
    register,
    token_request,
)
from tests.support.pkce import Pkce


def code_form(code: str, pkce: Pkce, **changes: str | None) -> dict[str, str]:
    form: dict[str, str | None] = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": pkce.verifier,
    }
    form.update(changes)
    return {name: value for name, value in form.items() if value is not None}


async def code_family(session: AsyncSession, code: str) -> uuid.UUID:
    row = await session.scalar(
        select(AuthorizationCode.id).where(AuthorizationCode.code_hash == hashing.digest(code))
    )
    assert row is not None
    return row


@pytest.mark.parametrize(
    "method", [AuthMethod.CLIENT_SECRET_BASIC, AuthMethod.CLIENT_SECRET_POST, AuthMethod.NONE]
)
async def test_a_code_is_exchanged_for_tokens(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring, method: AuthMethod
) -> None:
    connected = await connect(session, keyring, method)
    pkce = Pkce()
    code = await make_code(session, connected.registered.app, connected.grant, pkce)

    response = await token_request(client, connected.registered, code_form(code, pkce))

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["scope"] == "school groups students.basic"
    assert body["refresh_token"].startswith("gw_rt_")
    keys = await verification_keys(session, now=utcnow(), kid=None)
    claims = verify_access_token(
        body["access_token"], keys, issuer=ISSUER, audience=f"{ISSUER}/api/v1", now=utcnow()
    )
    assert claims.client_id == connected.registered.client_id
    assert claims.school_id == str(connected.school.id)
    assert claims.grant_id == str(connected.grant.id)
    assert claims.subject == f"school:{connected.school.id}"
    family = await code_family(session, code)
    assert [row.jti for row in await access_rows(session, family)] == [claims.jti]
    refresh = await refresh_rows(session, family)
    assert len(refresh) == 1
    assert refresh[0].token_hash == hashing.digest(body["refresh_token"])


async def test_the_token_scope_is_the_code_scope_within_the_grant_as_it_is_now(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring, scopes="school groups students.basic students.demographics")
    pkce = Pkce()
    code = await make_code(
        session,
        connected.registered.app,
        connected.grant,
        pkce,
        scopes="school students.basic students.demographics",
    )
    await session.execute(
        update(Grant).where(Grant.id == connected.grant.id).values(scopes="school groups students.basic")
    )
    await session.commit()

    body = (await token_request(client, connected.registered, code_form(code, pkce))).json()

    assert body["scope"] == "school students.basic"


async def test_pkce_verifier_is_required(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    pkce = Pkce()
    code = await make_code(session, connected.registered.app, connected.grant, pkce)

    response = await token_request(client, connected.registered, code_form(code, pkce, code_verifier=None))

    assert "code_verifier" in assert_oauth_error(response, 400, "invalid_request")["error_description"]
    # The code was not consumed: the right request still works.
    assert (await token_request(client, connected.registered, code_form(code, pkce))).status_code == 200


async def test_a_plain_pkce_verifier_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    """A client that used `plain` would send the challenge itself as the verifier."""
    connected = await connect(session, keyring)
    pkce = Pkce()
    code = await make_code(session, connected.registered.app, connected.grant, pkce)

    response = await token_request(
        client, connected.registered, code_form(code, pkce, code_verifier=pkce.challenge)
    )

    assert_oauth_error(response, 400, "invalid_grant")


async def test_a_wrong_pkce_verifier_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    pkce = Pkce()
    code = await make_code(session, connected.registered.app, connected.grant, pkce)

    response = await token_request(
        client, connected.registered, code_form(code, pkce, code_verifier=Pkce().verifier)
    )

    assert "PKCE" in assert_oauth_error(response, 400, "invalid_grant")["error_description"]


@pytest.mark.parametrize(
    "verifier",
    [
        "short",
        "a" * 42,
        "a" * 129,
        "a" * 42 + "!",
        "a" * 42 + "+",
        "a" * 42 + " ",
        "a" * 42 + "é",
    ],
)
async def test_a_malformed_pkce_verifier_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring, verifier: str
) -> None:
    connected = await connect(session, keyring)
    pkce = Pkce()
    code = await make_code(session, connected.registered.app, connected.grant, pkce)

    response = await token_request(
        client, connected.registered, code_form(code, pkce, code_verifier=verifier)
    )

    assert "43 to 128" in assert_oauth_error(response, 400, "invalid_request")["error_description"]


async def test_verifiers_of_43_and_128_unreserved_characters_are_accepted(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    for verifier in ("A-._~" + "z" * 38, "0" * 128):
        pkce = Pkce(verifier)
        code = await make_code(session, connected.registered.app, connected.grant, pkce)
        response = await token_request(client, connected.registered, code_form(code, pkce))
        assert response.status_code == 200, response.text


async def test_a_second_use_of_a_code_revokes_everything_issued_from_it(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    pkce = Pkce()
    code = await make_code(session, connected.registered.app, connected.grant, pkce)
    first = await token_request(client, connected.registered, code_form(code, pkce))
    assert first.status_code == 200
    family = await code_family(session, code)

    second = await token_request(client, connected.registered, code_form(code, pkce))

    assert "revoked" in assert_oauth_error(second, 400, "invalid_grant")["error_description"]
    # Committed despite the error answer (the request's own transaction was rolled back).
    assert [row.revoked_at is not None for row in await refresh_rows(session, family)] == [True]
    assert [row.revoked_at is not None for row in await access_rows(session, family)] == [True]
    events = await family_events(session, connected.school.id)
    assert events == [
        {
            "actor": "system",
            "family_id": str(family),
            "grant_id": str(connected.grant.id),
            "app_id": str(connected.registered.app.id),
            "reason": "code_reuse",
            "revoked_refresh": 1,
            "revoked_access": 1,
        }
    ]
    # The revoked refresh token no longer works, and a third use adds no second event.
    refreshed = await token_request(
        client,
        connected.registered,
        {"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]},
    )
    assert_oauth_error(refreshed, 400, "invalid_grant")
    third = await token_request(client, connected.registered, code_form(code, pkce))
    assert_oauth_error(third, 400, "invalid_grant")
    assert len(await family_events(session, connected.school.id)) == 1


async def test_an_expired_code_is_refused(session: AsyncSession, keyring: Keyring) -> None:
    connected = await connect(session, keyring)
    pkce = Pkce()
    issued_at = utcnow()
    code = await make_code(session, connected.registered.app, connected.grant, pkce, now=issued_at)

    async def exchange_at(seconds: int) -> IssuedTokens:
        context = TokenContext(
            session,
            keyring,
            connected.registered.authenticated(),
            ISSUER,
            issued_at + timedelta(seconds=seconds),
        )
        return await authorization_code.exchange_code(
            context, authorization_code.CodeRequest(code, REDIRECT_URI, pkce.verifier)
        )

    with pytest.raises(InvalidGrant):
        await exchange_at(60)
    with pytest.raises(InvalidGrant):
        await exchange_at(3600)
    assert (await exchange_at(59)).refresh_token


@pytest.mark.parametrize(
    "presented",
    [
        REDIRECT_URI + "/extra",
        REDIRECT_URI + "?next=/",
        REDIRECT_URI + "#",
        REDIRECT_URI + "/",
        "https://planner.example.com:443/oauth/callback",
        "https://planner.example.com:8443/oauth/callback",
        "https://Planner.example.com/oauth/callback",
        "https://planner.example.com/OAuth/Callback",
        "http://planner.example.com/oauth/callback",
        "https://planner.example.com.evil.example/oauth/callback",
        "https://planner.example.com/oauth/callback%2F",
        LOOPBACK_REDIRECT,
    ],
)
async def test_redirect_uri_must_be_exactly_the_one_of_the_request(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring, presented: str
) -> None:
    connected = await connect(session, keyring)
    pkce = Pkce()
    code = await make_code(session, connected.registered.app, connected.grant, pkce)

    response = await token_request(
        client, connected.registered, code_form(code, pkce, redirect_uri=presented)
    )

    assert "redirect_uri" in assert_oauth_error(response, 400, "invalid_grant")["error_description"]


async def test_redirect_uri_is_required(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    pkce = Pkce()
    code = await make_code(session, connected.registered.app, connected.grant, pkce)

    response = await token_request(client, connected.registered, code_form(code, pkce, redirect_uri=None))

    assert_oauth_error(response, 400, "invalid_request")


async def test_a_code_issued_to_another_client_is_refused_and_left_alone(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    thief = await register(session, keyring)
    pkce = Pkce()
    code = await make_code(session, connected.registered.app, connected.grant, pkce)

    response = await token_request(client, thief, code_form(code, pkce))

    assert_oauth_error(response, 400, "invalid_grant")
    assert (await token_request(client, connected.registered, code_form(code, pkce))).status_code == 200


async def test_an_unknown_code_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    pkce = Pkce()

    response = await token_request(client, connected.registered, code_form("gw_ac_" + "x" * 43, pkce))

    assert_oauth_error(response, 400, "invalid_grant")


async def test_a_code_of_a_revoked_grant_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    connected = await connect(session, keyring)
    pkce = Pkce()
    code = await make_code(session, connected.registered.app, connected.grant, pkce)
    await session.execute(update(Grant).where(Grant.id == connected.grant.id).values(revoked_at=utcnow()))
    await session.commit()

    response = await token_request(client, connected.registered, code_form(code, pkce))

    assert "revoked" in assert_oauth_error(response, 400, "invalid_grant")["error_description"]


async def test_the_exchange_helper_round_trip(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    """The helper other tests use: one code, one exchange, the claims name the connection."""
    connected: Connected = await connect(session, keyring)
    body = await exchange(client, connected, session)
    assert jwt_claims(body["access_token"])["grant_id"] == str(connected.grant.id)
