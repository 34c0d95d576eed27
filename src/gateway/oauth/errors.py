"""OAuth errors (RFC 6749 §4.1.2.1 and §5.2): an `error` code and a human `error_description`.

Raised by the authorisation server's services; `gateway.http.error_responses` turns one into RFC
6749 JSON with `Cache-Control: no-store`. Authorization-endpoint errors that can be redirected are
redirected by the authorize router instead (with `state` and `iss`, RFC 9207).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from fastapi.responses import JSONResponse

NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}


class OAuthError(Exception):
    error: ClassVar[str] = "server_error"
    status: ClassVar[int] = 400

    def __init__(self, description: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.headers = dict(headers or {})


class InvalidRequest(OAuthError):
    error = "invalid_request"


class InvalidClient(OAuthError):
    error, status = "invalid_client", 401


class InvalidGrant(OAuthError):
    error = "invalid_grant"


class UnauthorizedClient(OAuthError):
    error = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"


class UnsupportedResponseType(OAuthError):
    error = "unsupported_response_type"


class InvalidScope(OAuthError):
    error = "invalid_scope"


class TemporarilyUnavailable(OAuthError):
    """RFC 6749 §4.1.2.1: the authorization endpoint cannot take the request now; only ever redirected."""

    error, status = "temporarily_unavailable", 503


class TooManyRequests(OAuthError):
    """Not an RFC 6749 code: 429 with Retry-After; the body keeps the RFC 6749 shape."""

    error, status = "too_many_requests", 429


def oauth_error_response(exc: OAuthError) -> JSONResponse:
    return JSONResponse(
        {"error": exc.error, "error_description": exc.description},
        status_code=exc.status,
        headers={**NO_STORE, **exc.headers},
    )
