"""`grant_type` → the module that answers it (RFC 6749 §5.2: missing → invalid_request, unknown →
unsupported_grant_type)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Final

from gateway.oauth.errors import UnsupportedGrantType
from gateway.oauth.forms import required
from gateway.oauth.grant_types import authorization_code, client_credentials, refresh_token
from gateway.oauth.grant_types.base import GrantType, IssuedTokens, TokenContext

Handler = Callable[[TokenContext, Mapping[str, str]], Awaitable[IssuedTokens]]

HANDLERS: Final[Mapping[GrantType, Handler]] = MappingProxyType(
    {
        GrantType.AUTHORIZATION_CODE: authorization_code.handle,
        GrantType.REFRESH_TOKEN: refresh_token.handle,
        GrantType.CLIENT_CREDENTIALS: client_credentials.handle,
    }
)
assert set(HANDLERS) == set(GrantType), "every grant type needs a handler"


async def token_request(context: TokenContext, form: Mapping[str, str]) -> IssuedTokens:
    """Answer a token request: the handler of its `grant_type` parses the rest of the form and issues."""
    name = required(form, "grant_type")
    try:
        handler = HANDLERS[GrantType(name)]
    except ValueError:
        raise UnsupportedGrantType(f"grant_type must be {GrantType.spelled_out()}.") from None
    return await handler(context, form)
