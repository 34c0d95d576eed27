"""`/oauth/introspect` (RFC 7662): is this token active, and what does it allow — for its own client only.

Only confidential clients may introspect (RFC 7662 §2.1 requires the caller to be authorized; a public
client's id proves nothing, so anyone holding a token could read its claims). A client learns about its
own tokens only: another client's token, or anything unknown, is `{"active": false}` (§2.2), the same
answer as a revoked or expired token, so the endpoint says nothing about tokens a client does not hold.

Access token: active when the JWT verifies (signature, issuer, audience, key) and `tokens.state.decide`
says it may be used — the very decision the data API's bearer check makes, on the same one query
(`oauth.presented.state_of`): not expired, its app exists, not revoked, and for a school token its grant
live and its `jti` recorded under it; its scope is then the token's scope ∩ the grant's current scopes.
Refresh token: active when not revoked, not expired, not already used (beyond the retry window, in
which it would still be honoured) and its grant is live.

The hot path (`authenticate_and_introspect`, an access token) is that one query, made with the caller's
client id: the JWT is verified first, from keys in memory; client authentication then runs on the app the
query found, exactly as `client_auth.authenticate` would.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from fastapi import APIRouter, Request, Response, Security
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.consent.models import Grant
from gateway.db.base import utcnow
from gateway.db.read_only import read_only_session
from gateway.keys.dependencies import KeyringDep
from gateway.keys.keyring import Keyring
from gateway.oauth import client_auth
from gateway.oauth.client_auth import (
    AuthenticatedClient,
    PresentedCredentials,
    claimed_client_id,
    presented_credentials,
)
from gateway.oauth.client_limits import counting_failures
from gateway.oauth.errors import NO_STORE, InvalidClient
from gateway.oauth.form_docs import (
    AUTH_FAILURES,
    INVALID_CLIENT,
    NOT_FORM,
    IntrospectionResponse,
    TokenTargetForm,
    client_secret_basic,
    error,
    form_body,
)
from gateway.oauth.forms import read_form, required
from gateway.oauth.presented import TokenKind, kind_of, state_of
from gateway.scopes import effective_scopes, format_scopes
from gateway.settings import Settings
from gateway.tokens.access_tokens import AccessTokenClaims
from gateway.tokens.refresh import find_refresh_token, is_live
from gateway.tokens.verification import verified_access_token

router = APIRouter(prefix="/oauth", tags=["oauth"])

INACTIVE: Final[dict[str, Any]] = {"active": False}
TOKEN_TYPE: Final = "Bearer"  # noqa: S105 (a token type, not a secret)
PUBLIC_CLIENT: Final = (
    "Introspection needs client authentication: public clients (token_endpoint_auth_method none) "
    "cannot introspect."
)


def confidential(client: AuthenticatedClient) -> AuthenticatedClient:
    if not client.confidential:
        raise InvalidClient(PUBLIC_CLIENT)
    return client


async def authenticate_and_introspect(
    session: AsyncSession,
    keyring: Keyring,
    presented: PresentedCredentials,
    token: str,
    *,
    issuer: str,
    now: datetime,
) -> dict[str, Any]:
    """Authenticate the caller (confidential only) and answer for `token`; one query for an access token.

    For an access token the state query (`presented.state_of`) also loads the caller's app, which client
    authentication then checks exactly as `client_auth.authenticate` would.
    """
    fast = kind_of(token) is TokenKind.ACCESS and client_auth.could_be_client_id(presented.client_id)
    claims = await verified_access_token(session, token, issuer=issuer, now=now) if fast else None
    if claims is None or presented.client_id is None:
        client = confidential(await client_auth.authenticate(session, keyring, presented, now=now))
        return await introspect_token(session, client, token, issuer=issuer, now=now)
    state = await state_of(session, claims, client_id=presented.client_id, now=now, with_app=True)
    confidential(await client_auth.verify(session, keyring, presented, state.app, now=now))
    return _access_token_answer(claims, state.verdict.scopes if state.verdict.active else None)


async def introspect_token(
    session: AsyncSession, client: AuthenticatedClient, token: str, *, issuer: str, now: datetime
) -> dict[str, Any]:
    """The RFC 7662 §2.2 response for `token` as the (already authenticated) `client` may see it."""
    kind = kind_of(token)
    if kind is TokenKind.ACCESS:
        claims = await verified_access_token(session, token, issuer=issuer, now=now)
        if claims is None:
            return dict(INACTIVE)
        state = await state_of(session, claims, client_id=client.client_id, now=now)
        return _access_token_answer(claims, state.verdict.scopes if state.verdict.active else None)
    if kind is TokenKind.REFRESH:
        return await _refresh_token(session, client, token, issuer=issuer, now=now)
    return dict(INACTIVE)


def _access_token_answer(claims: AccessTokenClaims, scopes: frozenset[str] | None) -> dict[str, Any]:
    """Active with the scopes the token allows now (`tokens.state.decide`), or inactive (None)."""
    if scopes is None:
        return dict(INACTIVE)
    body: dict[str, Any] = {
        "active": True,
        "scope": format_scopes(scopes),
        "client_id": claims.client_id,
        "token_type": TOKEN_TYPE,
        "exp": int(claims.expires_at.timestamp()),
        "iat": int(claims.issued_at.timestamp()),
        "sub": claims.subject,
        "aud": claims.audience[0] if len(claims.audience) == 1 else list(claims.audience),
        "iss": claims.issuer,
        "jti": claims.jti,
    }
    if claims.school_id is not None:
        body["school_id"] = claims.school_id
        body["grant_id"] = claims.grant_id
    return body


async def _refresh_token(
    session: AsyncSession, client: AuthenticatedClient, token: str, *, issuer: str, now: datetime
) -> dict[str, Any]:
    row = await find_refresh_token(session, token)
    if row is None or not is_live(row, client.app.id, now):
        return dict(INACTIVE)
    grant_scopes = await session.scalar(
        select(Grant.scopes).where(
            Grant.id == row.grant_id, Grant.app_id == client.app.id, Grant.revoked_at.is_(None)
        )
    )
    if grant_scopes is None:
        return dict(INACTIVE)
    scopes = effective_scopes(row.scopes.split(), grant_scopes.split())
    if not scopes:
        return dict(INACTIVE)
    return {
        "active": True,
        "scope": format_scopes(scopes),
        "client_id": client.client_id,
        "exp": int(row.expires_at.timestamp()),
        "iat": int(row.created_at.timestamp()),
        "sub": f"school:{row.school_id}",
        "iss": issuer,
        "school_id": str(row.school_id),
        "grant_id": str(row.grant_id),
    }


INTROSPECT_DESCRIPTION: Final = """\
Ask whether one of your tokens is active, and what it allows now (RFC 7662).

Confidential clients only (public clients get `invalid_client`). You see only your own tokens: anything
else — another client's token, an unknown, expired or revoked token, a token whose grant the school has
revoked — is `{"active": false}`. For an active token, `scope` is what it allows right now: its own
scope as far as the school still grants it. Refresh tokens are active until used (or within the 30 s
retry window), revoked or expired.
"""


@router.post(
    "/introspect",
    summary="Introspect one of your tokens",
    description=INTROSPECT_DESCRIPTION,
    response_model=IntrospectionResponse,
    response_model_exclude_none=True,
    dependencies=[Security(client_secret_basic)],
    responses={
        400: error(
            "The request is refused (RFC 6749 §5.2)",
            {"not_form": NOT_FORM, "missing": ("invalid_request", "The token parameter is required.")},
        ),
        401: INVALID_CLIENT,
        429: AUTH_FAILURES,
    },
    openapi_extra=form_body(TokenTargetForm, {"access_token": {"token": "eyJhbGciOiJFUzI1NiIs…"}}),
)
async def introspect(request: Request, keyring: KeyringDep) -> Response:
    settings: Settings = request.app.state.settings
    now = utcnow()
    form = await read_form(request)
    authorization = request.headers.get("authorization")
    async with (
        counting_failures(request, claimed_client_id(authorization, form)),
        read_only_session(request.app.state.database) as session,
    ):
        body = await authenticate_and_introspect(
            session,
            keyring,
            presented_credentials(authorization, form),
            required(form, "token"),
            issuer=settings.issuer,
            now=now,
        )
    return JSONResponse(body, headers=NO_STORE)
