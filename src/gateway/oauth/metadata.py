"""`GET /.well-known/oauth-authorization-server`: what this authorisation server supports (RFC 8414).

Built from the settings' issuer and the code's own constants, so it cannot drift from what the endpoints
do: a test checks that each advertised endpoint answers.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from gateway.apps.models import AuthMethod
from gateway.oauth.grant_types.base import GrantType
from gateway.scopes import SCOPE_NAMES
from gateway.settings import Settings

router = APIRouter(tags=["oauth"])

PATH: Final = "/.well-known/oauth-authorization-server"
CACHE_CONTROL: Final = "public, max-age=300"
ALL_METHODS: Final = [method.value for method in AuthMethod]
CONFIDENTIAL_METHODS: Final = [method.value for method in AuthMethod if method.confidential]
GRANT_TYPES: Final = GrantType.names()


class AuthorizationServerMetadata(BaseModel):
    """RFC 8414 §2 (with RFC 9207's `authorization_response_iss_parameter_supported`)."""

    issuer: str = Field(description="The `iss` of every token and authorization response.")
    authorization_endpoint: str
    token_endpoint: str
    revocation_endpoint: str = Field(description="RFC 7009.")
    introspection_endpoint: str = Field(description="RFC 7662.")
    jwks_uri: str = Field(description="Public keys that verify access tokens (ES256).")
    service_documentation: str = Field(description="Human-readable API documentation.")
    response_types_supported: list[str]
    response_modes_supported: list[str]
    grant_types_supported: list[str]
    code_challenge_methods_supported: list[str] = Field(description="PKCE (RFC 7636): S256 only, required.")
    token_endpoint_auth_methods_supported: list[str]
    revocation_endpoint_auth_methods_supported: list[str]
    introspection_endpoint_auth_methods_supported: list[str] = Field(
        description="Confidential clients only: a public client cannot introspect."
    )
    scopes_supported: list[str] = Field(description="The scope catalogue.")
    authorization_response_iss_parameter_supported: bool = Field(description="RFC 9207: `iss` is sent.")


def metadata_for(issuer: str) -> AuthorizationServerMetadata:
    return AuthorizationServerMetadata(
        issuer=issuer,
        authorization_endpoint=f"{issuer}/oauth/authorize",
        token_endpoint=f"{issuer}/oauth/token",
        revocation_endpoint=f"{issuer}/oauth/revoke",
        introspection_endpoint=f"{issuer}/oauth/introspect",
        jwks_uri=f"{issuer}/.well-known/jwks.json",
        service_documentation=f"{issuer}/docs",
        response_types_supported=["code"],
        response_modes_supported=["query"],
        grant_types_supported=GRANT_TYPES,
        code_challenge_methods_supported=["S256"],
        token_endpoint_auth_methods_supported=ALL_METHODS,
        revocation_endpoint_auth_methods_supported=ALL_METHODS,
        introspection_endpoint_auth_methods_supported=CONFIDENTIAL_METHODS,
        scopes_supported=list(SCOPE_NAMES),
        authorization_response_iss_parameter_supported=True,
    )


@router.get(
    PATH,
    summary="Authorization server metadata (RFC 8414)",
    description="Everything an OAuth client library needs to configure itself for this gateway: endpoints, "
    "supported grants, client authentication methods, PKCE methods and the scope catalogue.",
    response_model=AuthorizationServerMetadata,
)
async def authorization_server_metadata(request: Request, response: Response) -> AuthorizationServerMetadata:
    settings: Settings = request.app.state.settings
    response.headers["cache-control"] = CACHE_CONTROL
    return metadata_for(settings.issuer)
