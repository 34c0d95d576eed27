"""`GET /.well-known/oauth-authorization-server` (RFC 8414): complete, and every promise kept."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from gateway.scopes import SCOPE_NAMES
from tests.support.backchannel import ISSUER, post_form


async def test_the_metadata_document_is_complete(client: httpx.AsyncClient) -> None:
    response = await client.get("/.well-known/oauth-authorization-server")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert "max-age" in response.headers["cache-control"]
    assert response.json() == {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/oauth/authorize",
        "token_endpoint": f"{ISSUER}/oauth/token",
        "revocation_endpoint": f"{ISSUER}/oauth/revoke",
        "introspection_endpoint": f"{ISSUER}/oauth/introspect",
        "jwks_uri": f"{ISSUER}/.well-known/jwks.json",
        "service_documentation": f"{ISSUER}/docs",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": list(SCOPE_NAMES),
        "authorization_response_iss_parameter_supported": True,
    }


async def test_every_advertised_endpoint_exists(client: httpx.AsyncClient) -> None:
    metadata = (await client.get("/.well-known/oauth-authorization-server")).json()

    def path(url: str) -> str:
        assert url.startswith(ISSUER + "/")
        return urlsplit(url).path

    assert (await client.get(path(metadata["jwks_uri"]))).status_code == 200
    assert (await client.get(path(metadata["service_documentation"]))).status_code == 200
    authorize = await client.get(path(metadata["authorization_endpoint"]))
    assert authorize.status_code not in {404, 405}
    for name in ("token_endpoint", "revocation_endpoint", "introspection_endpoint"):
        answer = await post_form(
            client, path(metadata[name]), {"token": "x", "grant_type": "client_credentials"}
        )
        assert answer.status_code == 401, (name, answer.text)  # there, and asking who the client is
        assert answer.json()["error"] == "invalid_client"


async def test_the_issuer_is_the_settings_issuer_and_the_well_known_path_derives_from_it(
    client: httpx.AsyncClient,
) -> None:
    """RFC 8414 §3.3: the issuer in the document is exactly the one whose well-known URL was fetched."""
    metadata = (await client.get("/.well-known/oauth-authorization-server")).json()
    parts = urlsplit(metadata["issuer"])
    assert parts.path in {"", "/"} or not parts.path.endswith("/")
    assert not parts.query
    assert not parts.fragment


async def test_docs_can_run_the_authorization_code_flow(client: httpx.AsyncClient) -> None:
    """SPEC §8: /docs has the OAuth flow wired in — the data API names the authorization-code scheme."""
    schema = (await client.get("/openapi.json")).json()
    flow = schema["components"]["securitySchemes"]["schoolAuthorization"]["flows"]["authorizationCode"]
    assert flow["authorizationUrl"] == "/oauth/authorize"
    assert flow["tokenUrl"] == "/oauth/token"
    assert "students.sen" in flow["scopes"]
    assert "(sensitive)" in flow["scopes"]["students.sen"]
    students = schema["paths"]["/api/v1/students"]["get"]["security"]
    assert {"schoolAuthorization": []} in students
    assert {"accessToken": []} in students
    redirect = await client.get("/docs/oauth2-redirect")
    assert redirect.status_code == 200
