"""`grant_type=client_credentials` (RFC 6749 §4.4, SPEC §3.4): an app-level token, confidential clients only.

The token's scope is always `school`: it serves only `/api/v1/app/…` (which schools granted the app,
what), never school data, so a `scope` parameter may ask for `school` or nothing else. No refresh token
(§4.4.3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from gateway.oauth.errors import InvalidScope, UnauthorizedClient
from gateway.oauth.grant_types.base import IssuedTokens, TokenContext, requested_scopes
from gateway.tokens import issuance

APP_TOKEN_SCOPES: Final = frozenset({"school"})


@dataclass(frozen=True, slots=True)
class ClientCredentialsRequest:
    scope: frozenset[str] | None

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> ClientCredentialsRequest:
        return cls(requested_scopes(form.get("scope")))


async def handle(context: TokenContext, form: Mapping[str, str]) -> IssuedTokens:
    return await client_credentials(context, ClientCredentialsRequest.from_form(form))


async def client_credentials(context: TokenContext, request: ClientCredentialsRequest) -> IssuedTokens:
    if not context.client.confidential:
        raise UnauthorizedClient("client_credentials is for confidential clients only.")
    if request.scope is not None and not request.scope <= APP_TOKEN_SCOPES:
        raise InvalidScope("An app-level token carries only the scope school.")
    minted = await issuance.app_access_token(
        context.session,
        context.keyring,
        issuer=context.issuer,
        app=context.client.app,
        scopes=APP_TOKEN_SCOPES,
        now=context.now,
    )
    return IssuedTokens(minted.token, minted.expires_in, minted.scope)
