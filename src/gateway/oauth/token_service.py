"""`/oauth/token`: the three grants, as plain async functions (SPEC §3.4; RFC 6749 §4.1.3, §4.4, §6).

Each takes the authenticated client, the request's parameters and `now` (so tests can move time), and
returns the tokens or raises an `OAuthError`. Services flush, never commit — with one exception, made
explicit: when a reused code or refresh token revokes its family, that revocation (and its audit event)
must outlive the error answer. Those paths raise `RefusedAfterRevoking`; the router commits, then answers
its `error`. Nothing else a refused request did is ever committed.

authorization_code. Checked in this order, each failure `invalid_grant` unless said otherwise: the code
exists (by SHA-256) and was issued to this client; it was not used before — if it was, the family is
revoked (RFC 6749 §4.1.2, RFC 9700 §4.5); it has not expired (60 s); `redirect_uri` is the very string
of the authorization request; BASE64URL(SHA256(code_verifier)) equals the stored S256 challenge
(RFC 7636 §4.6, constant time); the grant is still live. Only then is the code consumed, by one guarded
UPDATE; a request that loses that race is a second use like any other. A failed check does not consume
the code: nothing was issued, and without the verifier (256 bits) the code is useless.

refresh_token. Rotated on every use (RFC 9700 §4.14.2) by one guarded UPDATE. The winner stores the
successor, derived from the presented token (`issuance.successor_of`), so a request that loses the race,
or a retry, within `REFRESH_RETRY_WINDOW` of the first use gets the very same successor and a fresh
access token. A use after the window revokes the family. `scope` may only narrow (RFC 6749 §6): scopes
not granted are left out, and none granted is `invalid_scope`; the successor keeps the family's scope,
the access token gets the narrowed one.

client_credentials. Confidential clients only (RFC 6749 §4.4). The app-level token's scope is always
`school`: it serves only `/api/v1/app/…` (which schools granted the app, what), never school data, so a
`scope` parameter may ask for `school` or nothing else. No refresh token (§4.4.3).

The effective scope of every school token is the requested one ∩ the grant's current scopes, so a
narrowed grant shows at the next token request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final, NoReturn

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit import events
from gateway.keys.keyring import Keyring
from gateway.oauth import issuance
from gateway.oauth.client_auth import AuthenticatedClient
from gateway.oauth.errors import (
    InvalidGrant,
    InvalidRequest,
    InvalidScope,
    OAuthError,
    UnauthorizedClient,
    UnsupportedGrantType,
)
from gateway.oauth.forms import required
from gateway.oauth.grants import live_grant_by_id
from gateway.oauth.models import AuthorizationCode, Grant, RefreshToken
from gateway.oauth.presented_tokens import find_refresh_token
from gateway.oauth.revocation import CODE_REUSE, REFRESH_REUSE, revoke_family
from gateway.scopes import ScopeError, parse_scope_string

TOKEN_TYPE: Final = "Bearer"  # noqa: S105 (a token type, not a secret)
APP_TOKEN_SCOPES: Final = frozenset({"school"})
# RFC 7636 §4.1: code-verifier = 43*128unreserved; unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
_VERIFIER: Final = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_UNKNOWN_CODE: Final = "The code is unknown, was issued to another client, or has expired."
_UNKNOWN_REFRESH: Final = "The refresh token is unknown, revoked, expired or was issued to another client."


class GrantType(StrEnum):
    AUTHORIZATION_CODE = "authorization_code"
    REFRESH_TOKEN = "refresh_token"  # noqa: S105 (a grant type, not a secret)
    CLIENT_CREDENTIALS = "client_credentials"


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    """A successful token response (RFC 6749 §5.1)."""

    access_token: str
    expires_in: int
    scope: str
    refresh_token: str | None = None

    def as_json(self) -> dict[str, str | int]:
        body: dict[str, str | int] = {
            "access_token": self.access_token,
            "token_type": TOKEN_TYPE,
            "expires_in": self.expires_in,
        }
        if self.refresh_token is not None:
            body["refresh_token"] = self.refresh_token
        body["scope"] = self.scope
        return body


class RefusedAfterRevoking(Exception):
    """Refuse with `error`, but keep what was written: a family revoked on reuse and its audit event."""

    def __init__(self, error: OAuthError) -> None:
        super().__init__(error.description)
        self.error = error


async def token_request(
    session: AsyncSession,
    keyring: Keyring,
    client: AuthenticatedClient,
    form: Mapping[str, str],
    *,
    issuer: str,
    now: datetime,
) -> IssuedTokens:
    """Dispatch on `grant_type` (RFC 6749 §5.2: missing → invalid_request, unknown → unsupported)."""
    grant_type = required(form, "grant_type")
    if grant_type == GrantType.AUTHORIZATION_CODE:
        return await exchange_code(
            session,
            keyring,
            client,
            code=required(form, "code"),
            redirect_uri=required(form, "redirect_uri"),
            code_verifier=form.get("code_verifier"),
            issuer=issuer,
            now=now,
        )
    if grant_type == GrantType.REFRESH_TOKEN:
        return await refresh(
            session,
            keyring,
            client,
            refresh_token=required(form, "refresh_token"),
            scope=form.get("scope"),
            issuer=issuer,
            now=now,
        )
    if grant_type == GrantType.CLIENT_CREDENTIALS:
        return await client_credentials(
            session, keyring, client, scope=form.get("scope"), issuer=issuer, now=now
        )
    raise UnsupportedGrantType("grant_type must be authorization_code, refresh_token or client_credentials.")


# --- authorization_code -------------------------------------------------------------------------------


def pkce_s256(verifier: str) -> str:
    """BASE64URL-ENCODE(SHA256(ASCII(code_verifier))) without padding (RFC 7636 §4.2)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def check_code_verifier(verifier: str | None) -> str:
    if verifier is None:
        raise InvalidRequest("code_verifier is required: every client uses PKCE with S256 (RFC 7636).")
    if not _VERIFIER.fullmatch(verifier):
        raise InvalidRequest(
            "code_verifier must be 43 to 128 characters of A-Z, a-z, 0-9 and - . _ ~ (RFC 7636 section 4.1)."
        )
    return verifier


def verifier_matches(verifier: str, challenge: str) -> bool:
    return hmac.compare_digest(pkce_s256(verifier).encode(), challenge.encode())


async def exchange_code(
    session: AsyncSession,
    keyring: Keyring,
    client: AuthenticatedClient,
    *,
    code: str,
    redirect_uri: str,
    code_verifier: str | None,
    issuer: str,
    now: datetime,
) -> IssuedTokens:
    verifier = check_code_verifier(code_verifier)
    row = await session.scalar(
        select(AuthorizationCode).where(AuthorizationCode.code_hash == issuance.digest(code))
    )
    if row is None or row.app_id != client.app.id:
        raise InvalidGrant(_UNKNOWN_CODE)
    if row.used_at is not None:
        await _revoke_code_family(session, row, now=now)
    if row.expires_at <= now:
        raise InvalidGrant(_UNKNOWN_CODE)
    if redirect_uri != row.redirect_uri:
        raise InvalidGrant("redirect_uri is not the one the authorization request used.")
    if not verifier_matches(verifier, row.code_challenge):
        raise InvalidGrant("code_verifier does not match the code_challenge (PKCE S256).")
    grant = await _live_grant(session, row.grant_id, client)
    consumed = await session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.id == row.id, AuthorizationCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if not getattr(consumed, "rowcount", 0):  # a concurrent request exchanged it first: a second use
        await _revoke_code_family(session, row, now=now)
    scopes = frozenset(row.scopes.split()) & grant.scope_set
    if not scopes:
        raise InvalidGrant("The school no longer grants any of the scopes this code was issued for.")
    refresh_token = issuance.new_refresh_token()
    await issuance.add_refresh_token(
        session,
        refresh_token,
        family_id=row.id,
        app_id=client.app.id,
        grant_id=grant.id,
        school_id=grant.school_id,
        scopes=scopes,
        now=now,
    )
    minted = await issuance.school_access_token(
        session,
        keyring,
        issuer=issuer,
        app=client.app,
        grant_id=grant.id,
        school_id=grant.school_id,
        family_id=row.id,
        scopes=scopes,
        now=now,
    )
    return IssuedTokens(minted.token, minted.expires_in, minted.scope, refresh_token)


async def _revoke_code_family(session: AsyncSession, row: AuthorizationCode, *, now: datetime) -> NoReturn:
    await revoke_family(
        session,
        family_id=row.id,
        school_id=row.school_id,
        grant_id=row.grant_id,
        app_id=row.app_id,
        actor=events.SYSTEM,
        reason=CODE_REUSE,
        now=now,
    )
    raise RefusedAfterRevoking(
        InvalidGrant("The code was used before: every token issued from it has been revoked.")
    )


async def _live_grant(session: AsyncSession, grant_id: uuid.UUID, client: AuthenticatedClient) -> Grant:
    grant = await live_grant_by_id(session, grant_id)
    if grant is None or grant.app_id != client.app.id:
        raise InvalidGrant("The school has revoked this app's access: ask the school again.")
    return grant


# --- refresh_token ------------------------------------------------------------------------------------


def _requested_scopes(scope: str | None) -> frozenset[str] | None:
    if scope is None:
        return None
    try:
        return parse_scope_string(scope)
    except ScopeError as exc:
        raise InvalidScope(str(exc)) from None


async def refresh(
    session: AsyncSession,
    keyring: Keyring,
    client: AuthenticatedClient,
    *,
    refresh_token: str,
    scope: str | None,
    issuer: str,
    now: datetime,
) -> IssuedTokens:
    row = await find_refresh_token(session, refresh_token)
    if row is None or row.app_id != client.app.id or row.revoked_at is not None or row.expires_at <= now:
        raise InvalidGrant(_UNKNOWN_REFRESH)
    if row.used_at is not None and now - row.used_at > issuance.REFRESH_RETRY_WINDOW:
        await _revoke_refresh_family(session, row, now=now)
    family_scopes = frozenset(row.scopes.split())
    requested = _requested_scopes(scope)
    # RFC 6749 §6 forbids widening; §3.3 lets the server ignore part of a request. Scopes never granted are
    # left out (the response's `scope` says what was issued), so a client that resends its configured scope
    # on refresh (Authlib does) keeps working; nothing is ever added.
    if requested is not None:
        requested &= family_scopes
        if not requested:
            raise InvalidScope("A refresh may only narrow the scope: ask for scopes already granted.")
    grant = await _live_grant(session, row.grant_id, client)
    scopes = (requested or family_scopes) & grant.scope_set
    if not scopes:
        raise InvalidScope("The school no longer grants any of these scopes.")
    successor = await issuance.successor_of(session, keyring, refresh_token)
    if row.used_at is None:
        rotated = await session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.id == row.id, RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None)
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(rotated, "rowcount", 0):
            await issuance.add_refresh_token(
                session,
                successor,
                family_id=row.family_id,
                app_id=row.app_id,
                grant_id=row.grant_id,
                school_id=row.school_id,
                scopes=family_scopes,
                now=now,
            )
            return await _with_access_token(session, keyring, client, row, scopes, successor, issuer, now)
        # Another request rotated (or revoked) it first; it committed before this UPDATE could proceed.
        await session.refresh(row, ["used_at", "revoked_at"])
        if row.revoked_at is not None or row.used_at is None:
            raise InvalidGrant(_UNKNOWN_REFRESH)
        if now - row.used_at > issuance.REFRESH_RETRY_WINDOW:
            await _revoke_refresh_family(session, row, now=now)
    # A retry within the window: the same successor (the winner stored it), and a fresh access token.
    next_row = await find_refresh_token(session, successor)
    if next_row is None or next_row.revoked_at is not None:
        raise InvalidGrant(_UNKNOWN_REFRESH)
    return await _with_access_token(session, keyring, client, row, scopes, successor, issuer, now)


async def _revoke_refresh_family(session: AsyncSession, row: RefreshToken, *, now: datetime) -> NoReturn:
    await revoke_family(
        session,
        family_id=row.family_id,
        school_id=row.school_id,
        grant_id=row.grant_id,
        app_id=row.app_id,
        actor=events.SYSTEM,
        reason=REFRESH_REUSE,
        now=now,
    )
    raise RefusedAfterRevoking(
        InvalidGrant("The refresh token was used before: its whole token family has been revoked.")
    )


async def _with_access_token(
    session: AsyncSession,
    keyring: Keyring,
    client: AuthenticatedClient,
    row: RefreshToken,
    scopes: frozenset[str],
    successor: str,
    issuer: str,
    now: datetime,
) -> IssuedTokens:
    minted = await issuance.school_access_token(
        session,
        keyring,
        issuer=issuer,
        app=client.app,
        grant_id=row.grant_id,
        school_id=row.school_id,
        family_id=row.family_id,
        scopes=scopes,
        now=now,
    )
    return IssuedTokens(minted.token, minted.expires_in, minted.scope, successor)


# --- client_credentials -------------------------------------------------------------------------------


async def client_credentials(
    session: AsyncSession,
    keyring: Keyring,
    client: AuthenticatedClient,
    *,
    scope: str | None,
    issuer: str,
    now: datetime,
) -> IssuedTokens:
    if not client.confidential:
        raise UnauthorizedClient("client_credentials is for confidential clients only.")
    requested = _requested_scopes(scope)
    if requested is not None and not requested <= APP_TOKEN_SCOPES:
        raise InvalidScope("An app-level token carries only the scope school.")
    minted = await issuance.app_access_token(
        session, keyring, issuer=issuer, app=client.app, scopes=APP_TOKEN_SCOPES, now=now
    )
    return IssuedTokens(minted.token, minted.expires_in, minted.scope)
