"""How the back-channel endpoints (`/oauth/token`, `/revoke`, `/introspect`) are described in OpenAPI.

Their bodies are forms parsed by `oauth.forms` (so every mistake is RFC 6749 JSON, never a 422): the
models here only document them, and the response and error shapes.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.security import HTTPBasic
from pydantic import BaseModel, Field, JsonValue

from gateway.oauth.forms import FORM_MEDIA_TYPE
from gateway.oauth.grant_types.base import GrantType


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
        description=", ".join(f"`{name}`" for name in GrantType.names()[:-1])
        + f" or `{GrantType.names()[-1]}`.",
        json_schema_extra={"enum": list[JsonValue](GrantType.names())},
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
    # An empty value counts as omitted (`oauth.forms`), so an empty token is refused like a missing one.
    token: str = Field(min_length=1, description="The access token or refresh token.")
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


def form_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema as a form: an optional field is simply absent, never `null`."""
    schema = model.model_json_schema()
    for field in schema["properties"].values():
        options = field.pop("anyOf", None)
        if options is not None:
            field.update(next(option for option in options if option.get("type") != "null"))
        if field.get("default", "") is None:
            del field["default"]
    return schema


def form_body(model: type[BaseModel], examples: dict[str, dict[str, str]]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                FORM_MEDIA_TYPE: {
                    "schema": form_schema(model),
                    "examples": {name: {"value": value} for name, value in examples.items()},
                }
            },
        }
    }


def error(description: str, examples: dict[str, tuple[str, str]]) -> dict[str, Any]:
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


INVALID_CLIENT = error(
    "Client authentication failed (`invalid_client`), with `WWW-Authenticate: Basic` if Basic was used",
    {"wrong_secret": ("invalid_client", "Client authentication failed: unknown client or wrong secret.")},
)
NOT_FORM = ("invalid_request", "Send the request body as application/x-www-form-urlencoded.")
DUPLICATE = ("invalid_request", "code is given more than once (RFC 6749 section 3.1).")
CODE_EXAMPLE = {
    "grant_type": "authorization_code",
    "code": "gw_ac_…",
    "redirect_uri": "https://planner.example.com/oauth/callback",
    "code_verifier": "the 43-128 character verifier you generated",
}
AUTH_FAILURES = error(
    "Too many failed client authentications from this client id or address (`GATEWAY_CLIENT_AUTH_FAILURE_"
    "LIMIT`); see Retry-After",
    {"limited": ("too_many_requests", "Too many failed client authentications. Try again in 41 seconds.")},
)
