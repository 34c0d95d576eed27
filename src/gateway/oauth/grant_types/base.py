"""What the grants of `/oauth/token` share (SPEC §3.4, RFC 6749 §5): their names, context and answer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final, NoReturn

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit import events
from gateway.keys.keyring import Keyring
from gateway.oauth.client_auth import AuthenticatedClient
from gateway.oauth.errors import InvalidGrant, InvalidScope, OAuthError
from gateway.scopes import ScopeError, parse_scope_string
from gateway.tokens.families import FamilyMember, FamilyRevoked, revoke_family

TOKEN_TYPE: Final = "Bearer"  # noqa: S105 (a token type, not a secret)


class GrantType(StrEnum):
    """Every grant type the token endpoint answers: the one list (metadata, documentation, dispatch)."""

    AUTHORIZATION_CODE = "authorization_code"
    REFRESH_TOKEN = "refresh_token"  # noqa: S105 (a grant type, not a secret)
    CLIENT_CREDENTIALS = "client_credentials"

    @classmethod
    def names(cls) -> list[str]:
        return [grant_type.value for grant_type in cls]

    @classmethod
    def spelled_out(cls) -> str:
        *first, last = cls.names()
        return f"{', '.join(first)} or {last}"


@dataclass(frozen=True, slots=True)
class TokenContext:
    """Who asks, and where: the authenticated client, the issuer, and `now` (so tests can move time)."""

    session: AsyncSession
    keyring: Keyring
    client: AuthenticatedClient
    issuer: str
    now: datetime


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
    """Refuse with `error`, but keep what was written: a family revoked on reuse and its audit event.

    Services flush, never commit; this is the one exception, made explicit: the token router commits,
    then answers `error`. Nothing else a refused request did is ever committed.
    """

    def __init__(self, error: OAuthError) -> None:
        super().__init__(error.description)
        self.error = error


async def refuse_reuse(
    context: TokenContext, member: FamilyMember, *, family_id: uuid.UUID, reason: FamilyRevoked, message: str
) -> NoReturn:
    """A code or refresh token used again (RFC 9700 §4.5, §4.14.2): revoke its family, then refuse."""
    await revoke_family(
        context.session, member, family_id=family_id, actor=events.SYSTEM, reason=reason, now=context.now
    )
    raise RefusedAfterRevoking(InvalidGrant(message))


def requested_scopes(scope: str | None) -> frozenset[str] | None:
    """The `scope` parameter parsed (None when absent), or `invalid_scope`."""
    if scope is None:
        return None
    try:
        return parse_scope_string(scope)
    except ScopeError as exc:
        raise InvalidScope(str(exc)) from None
