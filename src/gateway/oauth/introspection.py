"""`/oauth/introspect` (RFC 7662): is this token active, and what does it allow — for its own client only.

Only confidential clients may introspect (RFC 7662 §2.1 requires the caller to be authorized; a public
client's id proves nothing, so anyone holding a token could read its claims). A client learns about its
own tokens only: another client's token, or anything unknown, is `{"active": false}` (§2.2), the same
answer as a revoked or expired token, so the endpoint says nothing about tokens a client does not hold.

Access token: active when the JWT verifies (signature, issuer, audience, not expired — with no leeway
here), no revocation is recorded for its `jti`, and, for a school token, its grant is still live; its
scope is then the token's scope ∩ the grant's current scopes, as the data API would apply it.
Refresh token: active when not revoked, not expired, not already used (beyond the retry window, in
which it would still be honoured) and its grant is live.

The hot path (`authenticate_and_introspect`, an access token) is one query: the caller's app, outer-joined
with the token's grant (if live) and its revocation row. The JWT is verified first, from keys in memory;
client authentication then runs on the app that query found, exactly as `client_auth.authenticate` would.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, Uuid, and_, bindparam, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.models import App
from gateway.keys.keyring import Keyring
from gateway.oauth import client_auth
from gateway.oauth.client_auth import AuthenticatedClient, PresentedCredentials
from gateway.oauth.errors import InvalidClient
from gateway.oauth.issuance import REFRESH_RETRY_WINDOW
from gateway.oauth.models import Grant, IssuedAccessToken, RefreshToken
from gateway.oauth.presented_tokens import TokenKind, find_refresh_token, kind_of, verified_access_token
from gateway.scopes import format_scopes
from gateway.tokens.access_tokens import AccessTokenClaims

INACTIVE: Final[dict[str, Any]] = {"active": False}
TOKEN_TYPE: Final = "Bearer"  # noqa: S105 (a token type, not a secret)
PUBLIC_CLIENT: Final = (
    "Introspection needs client authentication: public clients (token_endpoint_auth_method none) "
    "cannot introspect."
)


@dataclass(frozen=True, slots=True)
class AccessTokenState:
    """What the database says about a verified access token: its grant (if live) and revocation."""

    grant_scopes: str | None
    grant_app_id: uuid.UUID | None
    grant_school_id: uuid.UUID | None
    revoked_at: datetime | None


def _app_with_state(
    grant_match: ColumnElement[bool],
) -> Select[App, str, uuid.UUID, uuid.UUID, datetime | None]:
    """The caller's app by client id, with its token's live grant (if any) and revocation row."""
    return (
        select(
            App,
            Grant.scopes,
            Grant.app_id.label("grant_app_id"),
            Grant.school_id.label("grant_school_id"),
            IssuedAccessToken.revoked_at,
        )
        .select_from(App)
        .outerjoin(Grant, grant_match)
        .outerjoin(IssuedAccessToken, IssuedAccessToken.jti == bindparam("jti"))
        .where(App.client_id == bindparam("client_id"))
    )


_APP_WITH_SCHOOL_TOKEN: Final = _app_with_state(
    and_(Grant.id == bindparam("grant_id", type_=Uuid()), Grant.revoked_at.is_(None))
)
_APP_WITH_APP_TOKEN: Final = _app_with_state(false())


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
    """Authenticate the caller (confidential only) and answer for `token`; one query for an access token."""
    fast = kind_of(token) is TokenKind.ACCESS and client_auth.could_be_client_id(presented.client_id)
    claims = await verified_access_token(session, token, issuer=issuer, now=now) if fast else None
    try:
        grant_id = _grant_id(claims)
    except ValueError:
        claims = None  # a malformed grant id: the general path answers inactive
    if claims is None:
        client = confidential(await client_auth.authenticate(session, keyring, presented, now=now))
        return await introspect(session, client, token, issuer=issuer, now=now)
    query = _APP_WITH_SCHOOL_TOKEN if grant_id is not None else _APP_WITH_APP_TOKEN
    parameters: dict[str, object] = {"client_id": presented.client_id, "jti": claims.jti}
    if grant_id is not None:
        parameters["grant_id"] = grant_id
    row = (await session.execute(query, parameters)).first()
    client = confidential(
        await client_auth.verify(session, keyring, presented, row[0] if row is not None else None, now=now)
    )
    assert row is not None  # verify() refuses a client that was not found
    state = AccessTokenState(row.scopes, row.grant_app_id, row.grant_school_id, row.revoked_at)
    return _access_token_answer(claims, client, state, now=now)


def _grant_id(claims: AccessTokenClaims | None) -> uuid.UUID | None:
    """The school token's grant id, or None (no token, or an app-level one); ValueError if malformed."""
    if claims is None or claims.grant_id is None:
        return None
    return uuid.UUID(claims.grant_id)


async def introspect(
    session: AsyncSession, client: AuthenticatedClient, token: str, *, issuer: str, now: datetime
) -> dict[str, Any]:
    """The RFC 7662 §2.2 response for `token` as the (already authenticated) `client` may see it."""
    kind = kind_of(token)
    if kind is TokenKind.ACCESS:
        claims = await verified_access_token(session, token, issuer=issuer, now=now)
        try:
            grant_id = _grant_id(claims)
        except ValueError:
            return dict(INACTIVE)
        if claims is None:
            return dict(INACTIVE)
        state = await _access_token_state(session, claims.jti, grant_id)
        return _access_token_answer(claims, client, state, now=now)
    if kind is TokenKind.REFRESH:
        return await _refresh_token(session, client, token, issuer=issuer, now=now)
    return dict(INACTIVE)


async def _access_token_state(
    session: AsyncSession, jti: str, grant_id: uuid.UUID | bool | None
) -> AccessTokenState:
    revoked_at = IssuedAccessToken.revoked_at
    if not isinstance(grant_id, uuid.UUID):
        return AccessTokenState(
            None, None, None, await session.scalar(select(revoked_at).where(IssuedAccessToken.jti == jti))
        )
    row = (
        await session.execute(
            select(Grant.scopes, Grant.app_id, Grant.school_id, revoked_at)
            .select_from(Grant)
            .outerjoin(IssuedAccessToken, IssuedAccessToken.jti == jti)
            .where(Grant.id == grant_id, Grant.revoked_at.is_(None))
        )
    ).first()
    if row is None:
        return AccessTokenState(None, None, None, None)
    return AccessTokenState(row.scopes, row.app_id, row.school_id, row.revoked_at)


def _access_token_answer(
    claims: AccessTokenClaims, client: AuthenticatedClient, state: AccessTokenState, *, now: datetime
) -> dict[str, Any]:
    if claims.client_id != client.client_id or claims.expires_at <= now or state.revoked_at is not None:
        return dict(INACTIVE)
    if claims.grant_id is None:  # an app-level token: only an explicit revocation ends it early
        return _describe(claims, claims.scopes)
    if state.grant_scopes is None or state.grant_app_id != client.app.id:
        return dict(INACTIVE)  # the grant is no longer live (or was never this app's)
    if str(state.grant_school_id) != claims.school_id:
        return dict(INACTIVE)
    scopes = frozenset(claims.scopes) & frozenset(state.grant_scopes.split())
    return _describe(claims, scopes) if scopes else dict(INACTIVE)


def _describe(claims: AccessTokenClaims, scopes: frozenset[str] | tuple[str, ...]) -> dict[str, Any]:
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
    if row is None or not _refresh_is_live(row, client, now):
        return dict(INACTIVE)
    grant_scopes = await session.scalar(
        select(Grant.scopes).where(
            Grant.id == row.grant_id, Grant.app_id == client.app.id, Grant.revoked_at.is_(None)
        )
    )
    if grant_scopes is None:
        return dict(INACTIVE)
    scopes = frozenset(row.scopes.split()) & frozenset(grant_scopes.split())
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


def _refresh_is_live(row: RefreshToken, client: AuthenticatedClient, now: datetime) -> bool:
    if row.app_id != client.app.id or row.revoked_at is not None or row.expires_at <= now:
        return False
    return row.used_at is None or now - row.used_at <= REFRESH_RETRY_WINDOW
