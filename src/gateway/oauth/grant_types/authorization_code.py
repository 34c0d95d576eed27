"""`grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.5-4.6, SPEC §3.4).

Checked in this order, each failure `invalid_grant` unless said otherwise: the code exists (by SHA-256)
and was issued to this client; it was not used before — if it was, the family is revoked (RFC 6749
§4.1.2, RFC 9700 §4.5); it has not expired (60 s); `redirect_uri` is the very string of the
authorization request; BASE64URL(SHA256(code_verifier)) equals the stored S256 challenge (RFC 7636 §4.6,
constant time); the grant is still live. Only then is the code consumed, by one guarded UPDATE; a
request that loses that race is a second use like any other. A failed check does not consume the code:
nothing was issued, and without the verifier (256 bits) the code is useless.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, NoReturn

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.consent.models import Grant
from gateway.consent.repository import live_grant_by_id
from gateway.oauth.client_auth import AuthenticatedClient
from gateway.oauth.errors import InvalidGrant, InvalidRequest
from gateway.oauth.forms import required
from gateway.oauth.grant_types.base import IssuedTokens, TokenContext, refuse_reuse
from gateway.scopes import effective_scopes
from gateway.tokens import issuance
from gateway.tokens.codes import consume_code, find_code
from gateway.tokens.families import FamilyRevoked
from gateway.tokens.models import AuthorizationCode
from gateway.tokens.pkce import is_verifier, verifier_matches
from gateway.tokens.refresh import add_refresh_token, new_refresh_token

_UNKNOWN_CODE: Final = "The code is unknown, was issued to another client, or has expired."


@dataclass(frozen=True, slots=True)
class CodeRequest:
    code: str
    redirect_uri: str
    code_verifier: str

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> CodeRequest:
        code, redirect_uri = required(form, "code"), required(form, "redirect_uri")
        verifier = form.get("code_verifier")
        if verifier is None:
            raise InvalidRequest("code_verifier is required: every client uses PKCE with S256 (RFC 7636).")
        if not is_verifier(verifier):
            raise InvalidRequest(
                "code_verifier must be 43 to 128 characters of A-Z, a-z, 0-9 and - . _ ~ "
                "(RFC 7636 section 4.1)."
            )
        return cls(code, redirect_uri, verifier)


async def handle(context: TokenContext, form: Mapping[str, str]) -> IssuedTokens:
    return await exchange_code(context, CodeRequest.from_form(form))


async def exchange_code(context: TokenContext, request: CodeRequest) -> IssuedTokens:
    session, client, now = context.session, context.client, context.now
    row = await find_code(session, request.code)
    if row is None or row.app_id != client.app.id:
        raise InvalidGrant(_UNKNOWN_CODE)
    if row.used_at is not None:
        await _refuse_reuse(context, row)
    if row.expires_at <= now:
        raise InvalidGrant(_UNKNOWN_CODE)
    if request.redirect_uri != row.redirect_uri:
        raise InvalidGrant("redirect_uri is not the one the authorization request used.")
    if not verifier_matches(request.code_verifier, row.code_challenge):
        raise InvalidGrant("code_verifier does not match the code_challenge (PKCE S256).")
    grant = await live_grant_of(session, row.grant_id, client)
    if not await consume_code(session, row, now=now):  # a concurrent request exchanged it first
        await _refuse_reuse(context, row)
    scopes = effective_scopes(row.scopes.split(), grant.scope_set)
    if not scopes:
        raise InvalidGrant("The school no longer grants any of the scopes this code was issued for.")
    refresh_token = new_refresh_token()
    await add_refresh_token(
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
        context.keyring,
        issuer=context.issuer,
        app=client.app,
        grant_id=grant.id,
        school_id=grant.school_id,
        family_id=row.id,
        scopes=scopes,
        now=now,
    )
    return IssuedTokens(minted.token, minted.expires_in, minted.scope, refresh_token)


async def _refuse_reuse(context: TokenContext, row: AuthorizationCode) -> NoReturn:
    await refuse_reuse(
        context,
        row,
        family_id=row.id,
        reason=FamilyRevoked.CODE_REUSE,
        message="The code was used before: every token issued from it has been revoked.",
    )


async def live_grant_of(session: AsyncSession, grant_id: uuid.UUID, client: AuthenticatedClient) -> Grant:
    """The client's grant if it is still live, or `invalid_grant` (the school revoked it)."""
    grant = await live_grant_by_id(session, grant_id)
    if grant is None or grant.app_id != client.app.id:
        raise InvalidGrant("The school has revoked this app's access: ask the school again.")
    return grant
