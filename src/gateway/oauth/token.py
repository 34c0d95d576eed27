"""`POST /oauth/token` (RFC 6749 §3.2, §4.1.3, §4.4, §5, §6): read the form, authenticate, issue.

Thin: read the form (`forms`), authenticate the client (`client_auth`), count it against the client's
rate limit, and let the grant type's module answer (`grant_types.dispatch`). JSON with
`Cache-Control: no-store`; every error is RFC 6749 §5.2 JSON (`oauth.errors`), never problem+json.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request, Response, Security
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.base import utcnow
from gateway.db.read_only import NeedsWrite, read_only_session
from gateway.db.session import Database, transaction
from gateway.keys.dependencies import KeyringDep
from gateway.keys.keyring import Keyring
from gateway.oauth.client_auth import authenticate_client, claimed_client_id
from gateway.oauth.client_limits import client_rate_limit, counting_failures
from gateway.oauth.errors import NO_STORE
from gateway.oauth.form_docs import (
    CODE_EXAMPLE,
    DUPLICATE,
    INVALID_CLIENT,
    NOT_FORM,
    TokenForm,
    TokenResponse,
    client_secret_basic,
    error,
    form_body,
)
from gateway.oauth.forms import read_form
from gateway.oauth.grant_types.base import GrantType, RefusedAfterRevoking, TokenContext
from gateway.oauth.grant_types.dispatch import token_request
from gateway.settings import Settings

router = APIRouter(prefix="/oauth", tags=["oauth"])


GRANTS_DESCRIPTION: Final = """\
Exchange an authorization code, refresh, or get an app-level token (RFC 6749 §4.1.3, §6, §4.4).

**Client authentication** is the method your app registered: `client_secret_basic` (HTTP Basic; id and
secret form-urlencoded first, RFC 6749 §2.3.1), `client_secret_post` (`client_id` and `client_secret` in
the body) or `none` (public clients: `client_id` in the body, PKCE only). Using two methods at once is
refused.

**authorization_code**: the code is valid for 60 seconds, once, for the client and `redirect_uri` it was
issued for, with the PKCE `code_verifier` whose S256 challenge you sent. Using a code twice revokes every
token issued from it.

**refresh_token**: every use returns a new refresh token; store it and forget the old one. If your request
is retried (a lost response), sending the old token again within 30 seconds returns the same new refresh
token; sending it later is treated as theft and revokes the whole chain — the school must then approve
again. `scope` may narrow, never widen.

**client_credentials** (confidential clients): an app-level token (scope `school`, no school) for
`/api/v1/app/…` only.

Access tokens last 15 minutes. Their scope is what you asked for as far as the school still grants it.
Rate limited per client (`GATEWAY_TOKEN_RATE_LIMIT`, 300 a minute by default): 429 with Retry-After.
Failed client authentications here, at `/oauth/revoke` and at `/oauth/introspect` are limited per client
id and per address (`GATEWAY_CLIENT_AUTH_FAILURE_LIMIT`, 20 a minute by default): past it, 429 too.
Responses carry `Cache-Control: no-store`.
"""


@router.post(
    "/token",
    summary="Get tokens: exchange a code, refresh, or client_credentials",
    description=GRANTS_DESCRIPTION,
    response_model=TokenResponse,
    response_model_exclude_none=True,
    dependencies=[Security(client_secret_basic)],
    responses={
        400: error(
            "The request is refused (RFC 6749 §5.2)",
            {
                "not_form": NOT_FORM,
                "duplicated": DUPLICATE,
                "bad_code": (
                    "invalid_grant",
                    "The code is unknown, was issued to another client, or has expired.",
                ),
                "pkce": ("invalid_grant", "code_verifier does not match the code_challenge (PKCE S256)."),
                "reused": (
                    "invalid_grant",
                    "The refresh token was used before: its whole token family has been revoked.",
                ),
                "widen": (
                    "invalid_scope",
                    "A refresh may only narrow the scope: ask for some of the scopes already granted.",
                ),
                "grant_type": (
                    "unsupported_grant_type",
                    f"grant_type must be {GrantType.spelled_out()}.",
                ),
                "public_client_credentials": (
                    "unauthorized_client",
                    "client_credentials is for confidential clients only.",
                ),
            },
        ),
        401: INVALID_CLIENT,
        429: error(
            "Too many token requests from this client, or too many failed client authentications from "
            "this client id or address; see Retry-After",
            {
                "limited": (
                    "too_many_requests",
                    "Too many token requests for this client. Try again in 12 seconds.",
                ),
                "failures": (
                    "too_many_requests",
                    "Too many failed client authentications. Try again in 41 seconds.",
                ),
            },
        ),
    },
    openapi_extra=form_body(
        TokenForm,
        {
            "authorization_code": CODE_EXAMPLE,
            "refresh_token": {"grant_type": "refresh_token", "refresh_token": "gw_rt_…"},
            "client_credentials": {"grant_type": "client_credentials"},
        },
    ),
)
async def token(request: Request, keyring: KeyringDep) -> Response:
    database: Database = request.app.state.database
    form = await read_form(request)
    if form.get("grant_type") == GrantType.CLIENT_CREDENTIALS:  # reads only, bar the very first key
        try:
            async with read_only_session(database) as session:
                return await _issue(request, session, keyring, form)
        except NeedsWrite:
            pass
    async with transaction(database) as session:
        try:
            return await _issue(request, session, keyring, form)
        except RefusedAfterRevoking as refused:
            await session.commit()  # keep the family's revocation and its audit event (see grant_types.base)
            raise refused.error from None


async def _issue(request: Request, session: AsyncSession, keyring: Keyring, form: dict[str, str]) -> Response:
    settings: Settings = request.app.state.settings
    now = utcnow()
    authorization = request.headers.get("authorization")
    async with counting_failures(request, claimed_client_id(authorization, form)):
        client = await authenticate_client(session, keyring, authorization, form, now=now)
    await client_rate_limit(request).check(client.client_id)
    context = TokenContext(session, keyring, client, settings.issuer, now)
    issued = await token_request(context, form)
    return JSONResponse(issued.as_json(), headers=NO_STORE)
