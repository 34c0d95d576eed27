"""The access-token check of every protected `/api/v1/…` request (RFC 6750, RFC 9068 §4, SPEC §3.5).

1. Read the token from `Authorization: Bearer <token>` only (RFC 6750 §2.1). A token in the query
   (§2.3) or in a form body (§2.2) is refused with 400 `invalid_request`: those methods leak tokens into
   logs and histories, and the gateway does not support them.
2. Verify it as RFC 9068 §4 requires (`verify_access_token`, against the published signing keys).
3. Count the request against the token's rate limit (`http.api_limits`, keyed by `jti`): over it, 429
   with Retry-After, before any database work.
4. Decide whether it may be used now (`oauth.presented.state_of`: one indexed query, then the pure
   `tokens.state.decide` that introspection uses too): its app, its grant (live, for the school and
   client the token names), its own row (recorded at issue, not revoked). So a revoked grant, a
   disconnected app or a revoked token is refused on the very next request, on every process. Nothing
   of it is cached between requests.

Every refusal is 401 with `WWW-Authenticate: Bearer realm="gateway", error="invalid_token"` (§3, §3.1) and
the same problem+json body: the client is never told which check failed. The reason is logged, the token
never. A valid token of the wrong kind for the endpoint (a school token on `/api/v1/app/schools`, an
app-level token on a school endpoint) is 403 `insufficient_scope`.

Routers take `SchoolTokenDep` or `AppTokenDep`; nothing else should read an access token.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Final
from urllib.parse import parse_qsl

from fastapi import Depends, Request, Response, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2AuthorizationCodeBearer
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.consent.models import Grant
from gateway.db.base import utcnow
from gateway.db.session import SessionDep
from gateway.errors import BadRequest, Forbidden, Unauthorized
from gateway.http.api_limits import spend
from gateway.oauth.presented import state_of
from gateway.scopes import SCOPES
from gateway.settings import Settings
from gateway.tokens.access_tokens import AccessTokenClaims, InvalidAccessToken
from gateway.tokens.verification import verify_ours

log = logging.getLogger(__name__)

REALM: Final = "gateway"
# Our tokens are well under 1 kB; anything much longer is refused before it is parsed.
MAX_TOKEN_LENGTH: Final = 4096
# RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token. The scheme is case-insensitive (RFC 9110 §11.1).
_BEARER: Final = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9\-._~+/]+=*)")
_FORM: Final = "application/x-www-form-urlencoded"
_TOKEN_PARAMETER: Final = "access_token"  # noqa: S105 (a parameter name, not a secret)

access_token_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="accessToken",
    bearerFormat="JWT",
    description=(
        "An access token from `/oauth/token` (RFC 9068 JWT, 15 minutes), sent as "
        "`Authorization: Bearer <token>`: a school token (authorization_code or refresh_token grant) for "
        "a school's data and `/api/v1/app/disconnect`, an app-level token (client_credentials) for "
        "`/api/v1/app/schools`."
    ),
)


# --- What the client sees: one place for every refusal (RFC 6750 §3 challenge + RFC 9457 body) ---------


def _challenge(error: str | None = None, description: str | None = None) -> dict[str, str]:
    value = f'Bearer realm="{REALM}"'
    if error is not None:
        value += f', error="{error}"'
    if description is not None:
        value += f', error_description="{description}"'
    return {"www-authenticate": value}


class TokenRequired(Unauthorized):
    """No credentials at all: the challenge carries no error code (RFC 6750 §3.1)."""

    slug, title = "token-required", "Access token required"

    def __init__(self) -> None:
        super().__init__("Send an access token as `Authorization: Bearer <token>`.", headers=_challenge())


class InvalidToken(Unauthorized):
    """Any token that must be refused, for whatever reason: the same answer every time (RFC 6750 §3.1)."""

    slug, title = "invalid-token", "Invalid access token"

    def __init__(self) -> None:
        super().__init__(
            "The access token is not valid: it may be malformed, expired or revoked. Get a new one from "
            "/oauth/token.",
            headers=_challenge("invalid_token"),
        )


class TokenNotInHeader(BadRequest):
    """A token sent in the query or a form body (RFC 6750 §2.2, §2.3): unsupported, `invalid_request`."""

    slug, title = "invalid-request", "Invalid request"

    def __init__(self) -> None:
        super().__init__(
            "Send the access token only in the Authorization header, never in the URL or the body.",
            headers=_challenge("invalid_request"),
        )


class InsufficientScope(Forbidden):
    """A valid token of the wrong kind for this endpoint (RFC 6750 §3.1 `insufficient_scope`)."""

    slug, title = "insufficient-scope", "Insufficient scope"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers=_challenge("insufficient_scope"))


# --- What the endpoint gets ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SchoolToken:
    """A school token whose grant is live. `scopes` is the token's scopes ∩ the grant's current scopes
    (a narrowed grant narrows tokens already issued); implied scopes are not added here."""

    client_id: str
    app_id: uuid.UUID
    school_id: uuid.UUID
    grant: Grant
    scopes: frozenset[str]
    jti: str
    expires_at: datetime
    # The school's change number, read by the same query (saves the data API a round trip). Read before
    # the records, so an ETag made from it can only be older than the data, never newer: never a stale 304.
    change_seq: int = 0

    @property
    def grant_id(self) -> uuid.UUID:
        return self.grant.id


@dataclass(frozen=True, slots=True)
class AppToken:
    """An app-level (client_credentials) token of an app that still exists, not revoked."""

    client_id: str
    app_id: uuid.UUID
    scopes: frozenset[str]
    jti: str
    expires_at: datetime


def _refused(reason: str, claims: AccessTokenClaims | None = None) -> InvalidToken:
    fields = {"reason": reason}
    if claims is not None:
        fields["client_id"] = claims.client_id
    log.info("access token refused", extra=fields)
    return InvalidToken()


# --- The check ------------------------------------------------------------------------------------------


async def presented_token(request: Request) -> str:
    """The token from the Authorization header, or the refusal (RFC 6750 §2.1, §3.1)."""
    if _TOKEN_PARAMETER in request.query_params or await _token_in_form_body(request):
        raise TokenNotInHeader()
    headers = request.headers.getlist("authorization")
    if not headers:
        raise TokenRequired()
    if len(headers) > 1:
        raise _refused("repeated_header")
    value = headers[0]
    if len(value) > MAX_TOKEN_LENGTH + 16:
        raise _refused("oversized")
    match = _BEARER.fullmatch(value)
    if match is None:
        raise _refused("not_bearer")
    return match.group(1)


async def _token_in_form_body(request: Request) -> bool:
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != _FORM:
        return False
    body = await request.body()  # bounded by BodyLimitMiddleware; cached for the endpoint
    try:
        return any(name == _TOKEN_PARAMETER for name, _ in parse_qsl(body.decode("latin-1")))
    except ValueError:
        return False


async def authenticate(
    session: AsyncSession, token: str, *, issuer: str, now: datetime
) -> SchoolToken | AppToken:
    """Verify `token` and load its live state (one query), or raise `InvalidToken`."""
    return await live_state(session, await verified_claims(session, token, issuer=issuer, now=now), now=now)


async def verified_claims(
    session: AsyncSession, token: str, *, issuer: str, now: datetime
) -> AccessTokenClaims:
    """The claims of a well-signed, current access token of ours (RFC 9068 §4), or `InvalidToken`."""
    try:
        return await verify_ours(session, token, issuer=issuer, now=now)
    except InvalidAccessToken as exc:
        raise _refused(exc.reason) from None


async def live_state(
    session: AsyncSession, claims: AccessTokenClaims, *, now: datetime
) -> SchoolToken | AppToken:
    """The token as the database has it now (`presented.state_of`, one query), or `InvalidToken`."""
    state = await state_of(session, claims, client_id=claims.client_id, now=now)
    if state.verdict.refusal is not None:
        raise _refused(state.verdict.refusal, claims)
    assert state.app_id is not None  # an active verdict has found the app
    if state.grant is None:
        return AppToken(
            client_id=claims.client_id,
            app_id=state.app_id,
            scopes=state.verdict.scopes,
            jti=claims.jti,
            expires_at=claims.expires_at,
        )
    return SchoolToken(
        client_id=claims.client_id,
        app_id=state.grant.app_id,
        school_id=state.grant.school_id,
        grant=state.grant,
        scopes=state.verdict.scopes,
        jti=claims.jti,
        expires_at=claims.expires_at,
        change_seq=state.change_seq,
    )


class _AuthorizationCodeForDocs(OAuth2AuthorizationCodeBearer):
    """Declares the authorization-code flow in the OpenAPI document, so /docs can run it (SPEC §8).

    Documentation only: `access_token` reads and checks the header itself.
    """

    async def __call__(self, request: Request) -> None:  # type: ignore[override]
        return None


school_authorization_for_docs = _AuthorizationCodeForDocs(
    authorizationUrl="/oauth/authorize",
    tokenUrl="/oauth/token",
    refreshUrl="/oauth/token",
    scopes={scope.name: scope.title + (" (sensitive)" if scope.sensitive else "") for scope in SCOPES},
    scheme_name="schoolAuthorization",
    description=(
        "Try the data API from this page as your app: add `<this server>/docs/oauth2-redirect` to your app's "
        "redirect URIs, choose Authorize, give your `client_id` (and secret, for a confidential app) and the "
        "scopes; a school admin signs in and consents, and Swagger UI exchanges the code with PKCE (S256). "
        "The token is for the signed-in admin's school."
    ),
    auto_error=False,
)


# --- FastAPI dependencies --------------------------------------------------------------------------------


async def access_token(
    request: Request,
    response: Response,
    session: SessionDep,
    # Declared for the OpenAPI security requirement (the lock on /docs); the raw header is read above.
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(access_token_scheme)],
) -> SchoolToken | AppToken:
    settings: Settings = request.app.state.settings
    token = await presented_token(request)
    now = utcnow()
    claims = await verified_claims(session, token, issuer=settings.issuer, now=now)
    await spend(request, response, claims.jti)
    return await live_state(session, claims, now=now)


async def school_token(
    principal: Annotated[SchoolToken | AppToken, Depends(access_token)],
    _docs: Annotated[None, Security(school_authorization_for_docs)],
) -> SchoolToken:
    if not isinstance(principal, SchoolToken):
        raise InsufficientScope(
            "This endpoint needs a school's access token (authorization_code or refresh_token grant)."
        )
    return principal


async def app_token(principal: Annotated[SchoolToken | AppToken, Depends(access_token)]) -> AppToken:
    if not isinstance(principal, AppToken):
        raise InsufficientScope("This endpoint needs an app-level access token (client_credentials grant).")
    return principal


SchoolTokenDep = Annotated[SchoolToken, Depends(school_token)]
AppTokenDep = Annotated[AppToken, Depends(app_token)]
