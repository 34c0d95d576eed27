"""The back channel: `POST /oauth/token`, `/oauth/revoke`, `/oauth/introspect` (RFC 6749, 7009, 7662).

Thin: read the form (`forms`), authenticate the client (`client_auth`), call one service, answer JSON
with `Cache-Control: no-store`. Every error is RFC 6749 §5.2 JSON (`oauth.errors`), never problem+json.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request, Response, Security
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBasic
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.base import utcnow
from gateway.db.session import Database, SessionDep, transaction
from gateway.keys.keyring import Keyring
from gateway.oauth import introspection, revocation, token_service
from gateway.oauth.client_auth import authenticate_client, presented_credentials
from gateway.oauth.client_limits import client_rate_limit
from gateway.oauth.errors import NO_STORE
from gateway.oauth.forms import FORM_MEDIA_TYPE, read_form, required
from gateway.oauth.read_only import NeedsWrite, read_only_session
from gateway.oauth.token_service import GrantType, RefusedAfterRevoking
from gateway.settings import Settings

router = APIRouter(prefix="/oauth", tags=["oauth"])


class _BasicForDocs(HTTPBasic):
    """Declares `client_secret_basic` in the OpenAPI document (Swagger UI's Authorize button) only.

    The header itself is read by `client_auth`, which answers malformed credentials the RFC 6749 way.
    """

    async def __call__(self, request: Request) -> None:  # type: ignore[override]
        return None


client_secret_basic = _BasicForDocs(
    scheme_name="clientSecretBasic",
    description="`client_secret_basic` (RFC 6749 §2.3.1): your client_id as the user name and your client "
    "secret as the password. Apps registered for `client_secret_post` send `client_id` and "
    "`client_secret` in the form instead, and public clients (`none`) send only `client_id`.",
    auto_error=False,
)


# --- documentation models -----------------------------------------------------------------------------


class TokenForm(BaseModel):
    grant_type: str = Field(
        description="`authorization_code`, `refresh_token` or `client_credentials`.",
        json_schema_extra={"enum": ["authorization_code", "refresh_token", "client_credentials"]},
    )
    code: str | None = Field(None, description="authorization_code: the code from the redirect (60 s, once).")
    redirect_uri: str | None = Field(
        None, description="authorization_code: exactly the redirect_uri of the authorization request."
    )
    code_verifier: str | None = Field(
        None,
        description="authorization_code: the PKCE verifier (RFC 7636) whose S256 challenge was sent to "
        "/oauth/authorize: 43-128 characters of `A-Z a-z 0-9 - . _ ~`.",
    )
    refresh_token: str | None = Field(
        None, description="refresh_token: the latest refresh token. Each use returns a new one."
    )
    scope: str | None = Field(
        None,
        description="refresh_token: optional, a subset of the granted scopes to narrow the access token. "
        "client_credentials: optional, `school` (the only scope of an app-level token).",
    )
    client_id: str | None = Field(
        None, description="Your client_id, unless you authenticate with HTTP Basic (client_secret_basic)."
    )
    client_secret: str | None = Field(None, description="client_secret_post only: your client secret.")


class TokenTargetForm(BaseModel):
    token: str = Field(description="The access token or refresh token.")
    token_type_hint: str | None = Field(
        None,
        description="Optional: `access_token` or `refresh_token`. Not needed (our tokens are told apart by "
        "their form) and ignored.",
    )
    client_id: str | None = Field(None, description="Your client_id, unless you use HTTP Basic.")
    client_secret: str | None = Field(None, description="client_secret_post only: your client secret.")


class TokenResponse(BaseModel):
    """RFC 6749 §5.1."""

    access_token: str = Field(
        description="An RFC 9068 JWT (`typ: at+jwt`, ES256): send it as `Authorization: Bearer …` to "
        "`/api/v1`. Verify it with `/.well-known/jwks.json` if you must read it."
    )
    token_type: str = Field(description="Always `Bearer`.", examples=["Bearer"])
    expires_in: int = Field(description="Seconds the access token is valid: 900.", examples=[900])
    refresh_token: str | None = Field(
        None,
        description="authorization_code and refresh_token only: the refresh token to use next time. The one "
        "you sent is now used up: store this one.",
    )
    scope: str = Field(
        description="The scopes this access token carries (space-separated): those asked for, as far as the "
        "school still grants them.",
        examples=["school groups students.basic"],
    )


class IntrospectionResponse(BaseModel):
    """RFC 7662 §2.2. An inactive token answers only `{"active": false}`."""

    active: bool
    scope: str | None = Field(None, description="The scopes the token allows now (∩ the live grant).")
    client_id: str | None = None
    token_type: str | None = Field(
        None, description="`Bearer` for an access token; absent for a refresh token."
    )
    exp: int | None = Field(None, description="Expiry, seconds since the epoch.")
    iat: int | None = Field(None, description="Issue time, seconds since the epoch.")
    sub: str | None = Field(
        None, description="`school:<id>` for a school token; your client_id for an app-level token."
    )
    aud: str | None = Field(None, description="Access tokens: the data API, `<issuer>/api/v1`.")
    iss: str | None = None
    jti: str | None = Field(None, description="Access tokens: the token's id.")
    school_id: str | None = Field(None, description="School tokens: the school that granted access.")
    grant_id: str | None = Field(None, description="School tokens: the grant they act under.")


class OAuthErrorBody(BaseModel):
    """RFC 6749 §5.2."""

    error: str = Field(
        description="invalid_request, invalid_client, invalid_grant, unauthorized_client, "
        "unsupported_grant_type, invalid_scope, or too_many_requests (429)."
    )
    error_description: str = Field(description="What went wrong, in English, for the developer.")


def _form_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema as a form: an optional field is simply absent, never `null`."""
    schema = model.model_json_schema()
    for field in schema["properties"].values():
        options = field.pop("anyOf", None)
        if options is not None:
            field.update(next(option for option in options if option.get("type") != "null"))
        if field.get("default", "") is None:
            del field["default"]
    return schema


def _form_body(model: type[BaseModel], examples: dict[str, dict[str, str]]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                FORM_MEDIA_TYPE: {
                    "schema": _form_schema(model),
                    "examples": {name: {"value": value} for name, value in examples.items()},
                }
            },
        }
    }


def _error(description: str, examples: dict[str, tuple[str, str]]) -> dict[str, Any]:
    return {
        "model": OAuthErrorBody,
        "description": description,
        "content": {
            "application/json": {
                "examples": {
                    name: {"value": {"error": error, "error_description": text}}
                    for name, (error, text) in examples.items()
                }
            }
        },
    }


_INVALID_CLIENT = _error(
    "Client authentication failed (`invalid_client`), with `WWW-Authenticate: Basic` if Basic was used",
    {"wrong_secret": ("invalid_client", "Client authentication failed: unknown client or wrong secret.")},
)
_NOT_FORM = ("invalid_request", "Send the request body as application/x-www-form-urlencoded.")
_DUPLICATE = ("invalid_request", "code is given more than once (RFC 6749 section 3.1).")
_CODE_EXAMPLE = {
    "grant_type": "authorization_code",
    "code": "gw_ac_…",
    "redirect_uri": "https://planner.example.com/oauth/callback",
    "code_verifier": "the 43-128 character verifier you generated",
}

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
        400: _error(
            "The request is refused (RFC 6749 §5.2)",
            {
                "not_form": _NOT_FORM,
                "duplicated": _DUPLICATE,
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
                    "grant_type must be authorization_code, refresh_token or client_credentials.",
                ),
                "public_client_credentials": (
                    "unauthorized_client",
                    "client_credentials is for confidential clients only.",
                ),
            },
        ),
        401: _INVALID_CLIENT,
        429: _error(
            "Too many token requests from this client; see Retry-After",
            {
                "limited": (
                    "too_many_requests",
                    "Too many token requests for this client. Try again in 12 seconds.",
                )
            },
        ),
    },
    openapi_extra=_form_body(
        TokenForm,
        {
            "authorization_code": _CODE_EXAMPLE,
            "refresh_token": {"grant_type": "refresh_token", "refresh_token": "gw_rt_…"},
            "client_credentials": {"grant_type": "client_credentials"},
        },
    ),
)
async def token(request: Request) -> Response:
    database: Database = request.app.state.database
    form = await read_form(request)
    if form.get("grant_type") == GrantType.CLIENT_CREDENTIALS:  # reads only, bar the very first key
        try:
            async with read_only_session(database) as session:
                return await _issue(request, session, form)
        except NeedsWrite:
            pass
    async with transaction(database) as session:
        try:
            return await _issue(request, session, form)
        except RefusedAfterRevoking as refused:
            await session.commit()  # keep the family's revocation and its audit event (see token_service)
            raise refused.error from None


async def _issue(request: Request, session: AsyncSession, form: dict[str, str]) -> Response:
    settings: Settings = request.app.state.settings
    keyring: Keyring = request.app.state.keyring  # not KeyringDep: a sync dependency costs a thread hop
    now = utcnow()
    client = await authenticate_client(session, keyring, request.headers.get("authorization"), form, now=now)
    await client_rate_limit(request).check(client.client_id)
    issued = await token_service.token_request(
        session, keyring, client, form, issuer=settings.issuer, now=now
    )
    return JSONResponse(issued.as_json(), headers=NO_STORE)


REVOKE_DESCRIPTION: Final = """\
Revoke a token you no longer need (RFC 7009), e.g. when a school disconnects in your app.

A **refresh token** ends its whole chain: every refresh and access token issued from the same
authorization. An **access token** is refused by the data API from now on. Authenticate as for
`/oauth/token` (public clients send `client_id`). The answer is 200 with an empty body whether or not
the token was valid, yours, or already revoked (RFC 7009 §2.2) — another client's token is never revoked.
"""


@router.post(
    "/revoke",
    summary="Revoke an access or refresh token",
    response_class=Response,
    description=REVOKE_DESCRIPTION,
    dependencies=[Security(client_secret_basic)],
    responses={
        200: {"description": "Revoked, or nothing to revoke (empty body)", "content": {}},
        400: _error(
            "The request is refused (RFC 6749 §5.2)",
            {"not_form": _NOT_FORM, "missing": ("invalid_request", "The token parameter is required.")},
        ),
        401: _INVALID_CLIENT,
    },
    openapi_extra=_form_body(
        TokenTargetForm, {"refresh_token": {"token": "gw_rt_…", "token_type_hint": "refresh_token"}}
    ),
)
async def revoke(request: Request, session: SessionDep) -> Response:
    settings: Settings = request.app.state.settings
    keyring: Keyring = request.app.state.keyring  # not KeyringDep: a sync dependency costs a thread hop
    now = utcnow()
    form = await read_form(request)
    client = await authenticate_client(session, keyring, request.headers.get("authorization"), form, now=now)
    await revocation.revoke(session, client, required(form, "token"), issuer=settings.issuer, now=now)
    return Response(status_code=200, headers=NO_STORE)


INTROSPECT_DESCRIPTION: Final = """\
Ask whether one of your tokens is active, and what it allows now (RFC 7662).

Confidential clients only (public clients get `invalid_client`). You see only your own tokens: anything
else — another client's token, an unknown, expired or revoked token, a token whose grant the school has
revoked — is `{"active": false}`. For an active token, `scope` is what it allows right now: its own
scope as far as the school still grants it. Refresh tokens are active until used (or within the 30 s
retry window), revoked or expired.
"""


@router.post(
    "/introspect",
    summary="Introspect one of your tokens",
    description=INTROSPECT_DESCRIPTION,
    response_model=IntrospectionResponse,
    response_model_exclude_none=True,
    dependencies=[Security(client_secret_basic)],
    responses={
        400: _error(
            "The request is refused (RFC 6749 §5.2)",
            {"not_form": _NOT_FORM, "missing": ("invalid_request", "The token parameter is required.")},
        ),
        401: _INVALID_CLIENT,
    },
    openapi_extra=_form_body(TokenTargetForm, {"access_token": {"token": "eyJhbGciOiJFUzI1NiIs…"}}),
)
async def introspect(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    keyring: Keyring = request.app.state.keyring  # not KeyringDep: a sync dependency costs a thread hop
    now = utcnow()
    form = await read_form(request)
    async with read_only_session(request.app.state.database) as session:
        body = await introspection.authenticate_and_introspect(
            session,
            keyring,
            presented_credentials(request.headers.get("authorization"), form),
            required(form, "token"),
            issuer=settings.issuer,
            now=now,
        )
    return JSONResponse(body, headers=NO_STORE)
