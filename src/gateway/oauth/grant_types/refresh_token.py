"""`grant_type=refresh_token` (RFC 6749 §6, RFC 9700 §4.14.2, SPEC §3.4).

Rotated on every use by one guarded UPDATE (`tokens.refresh.rotate`). The winner stores the successor,
derived from the presented token, so a request that loses the race, or a retry, within
`REFRESH_RETRY_WINDOW` of the first use gets the very same successor and a fresh access token. A use
after the window revokes the family. `scope` may only narrow (RFC 6749 §6): scopes not granted are left
out, and none granted is `invalid_scope`; the successor keeps the family's scope, the access token gets
the narrowed one, as far as the grant still holds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, NoReturn

from gateway.oauth.errors import InvalidGrant, InvalidScope
from gateway.oauth.forms import required
from gateway.oauth.grant_types.authorization_code import live_grant_of
from gateway.oauth.grant_types.base import IssuedTokens, TokenContext, refuse_reuse, requested_scopes
from gateway.scopes import effective_scopes
from gateway.tokens import issuance
from gateway.tokens.families import FamilyRevoked
from gateway.tokens.models import RefreshToken
from gateway.tokens.refresh import (
    add_refresh_token,
    find_refresh_token,
    rotate,
    successor_of,
    within_retry_window,
)

_UNKNOWN_REFRESH: Final = "The refresh token is unknown, revoked, expired or was issued to another client."


@dataclass(frozen=True, slots=True)
class RefreshRequest:
    refresh_token: str
    scope: frozenset[str] | None

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> RefreshRequest:
        return cls(required(form, "refresh_token"), requested_scopes(form.get("scope")))


async def handle(context: TokenContext, form: Mapping[str, str]) -> IssuedTokens:
    return await refresh(context, RefreshRequest.from_form(form))


async def refresh(context: TokenContext, request: RefreshRequest) -> IssuedTokens:
    session, client, now = context.session, context.client, context.now
    row = await find_refresh_token(session, request.refresh_token)
    if row is None or row.app_id != client.app.id or row.revoked_at is not None or row.expires_at <= now:
        raise InvalidGrant(_UNKNOWN_REFRESH)
    if not within_retry_window(row, now):
        await _refuse_reuse(context, row)
    family_scopes = frozenset(row.scopes.split())
    requested = request.scope
    # RFC 6749 §6 forbids widening; §3.3 lets the server ignore part of a request. Scopes never granted are
    # left out (the response's `scope` says what was issued), so a client that resends its configured scope
    # on refresh (Authlib does) keeps working; nothing is ever added.
    if requested is not None:
        requested = effective_scopes(requested, family_scopes)
        if not requested:
            raise InvalidScope("A refresh may only narrow the scope: ask for scopes already granted.")
    grant = await live_grant_of(session, row.grant_id, client)
    scopes = effective_scopes(requested or family_scopes, grant.scope_set)
    if not scopes:
        raise InvalidScope("The school no longer grants any of these scopes.")
    successor = await successor_of(session, context.keyring, request.refresh_token)
    if row.used_at is None:
        if await rotate(session, row, now=now):
            await add_refresh_token(
                session,
                successor,
                family_id=row.family_id,
                app_id=row.app_id,
                grant_id=row.grant_id,
                school_id=row.school_id,
                scopes=family_scopes,
                now=now,
            )
            return await _with_access_token(context, row, scopes, successor)
        # Another request rotated (or revoked) it first; it committed before this UPDATE could proceed.
        await session.refresh(row, ["used_at", "revoked_at"])
        if row.revoked_at is not None or row.used_at is None:
            raise InvalidGrant(_UNKNOWN_REFRESH)
        if not within_retry_window(row, now):
            await _refuse_reuse(context, row)
    # A retry within the window: the same successor (the winner stored it), and a fresh access token.
    next_row = await find_refresh_token(session, successor)
    if next_row is None or next_row.revoked_at is not None:
        raise InvalidGrant(_UNKNOWN_REFRESH)
    return await _with_access_token(context, row, scopes, successor)


async def _refuse_reuse(context: TokenContext, row: RefreshToken) -> NoReturn:
    await refuse_reuse(
        context,
        row,
        family_id=row.family_id,
        reason=FamilyRevoked.REFRESH_REUSE,
        message="The refresh token was used before: its whole token family has been revoked.",
    )


async def _with_access_token(
    context: TokenContext, row: RefreshToken, scopes: frozenset[str], successor: str
) -> IssuedTokens:
    minted = await issuance.school_access_token(
        context.session,
        context.keyring,
        issuer=context.issuer,
        app=context.client.app,
        grant_id=row.grant_id,
        school_id=row.school_id,
        family_id=row.family_id,
        scopes=scopes,
        now=context.now,
    )
    return IssuedTokens(minted.token, minted.expires_in, minted.scope, successor)
