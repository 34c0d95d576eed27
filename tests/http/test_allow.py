"""A 405 names, in `Allow`, every method the path takes (RFC 9110 §15.5.6), not only the first route's.

Routes that share a path but not a method are separate routes, and Starlette's 405 names only the first;
`http.error_responses.allowed_methods` asks every route.
"""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI

CANDIDATES = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allow_of(response: httpx.Response) -> list[str]:
    assert response.status_code == 405, response.text
    return [method.strip() for method in response.headers["allow"].split(",")]


def documented_methods(app: FastAPI) -> dict[str, set[str]]:
    """Each concrete path (path parameters filled in) → the methods every documented path it matches takes."""
    paths = app.openapi()["paths"]
    patterns = {
        template: re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$") for template in paths
    }
    expected: dict[str, set[str]] = {}
    for path in (re.sub(r"\{[^/]+\}", "some-id", template) for template in paths):
        methods: set[str] = set()
        for other, pattern in patterns.items():
            if pattern.match(path):
                methods |= {method.upper() for method in paths[other]}
        expected[path] = methods
    return expected


async def test_every_documented_path_lists_all_its_methods(client: httpx.AsyncClient, app: FastAPI) -> None:
    for path, methods in documented_methods(app).items():
        refused = [method for method in CANDIDATES if method not in methods]
        assert "OPTIONS" in refused  # no route answers OPTIONS (no CORS anywhere)
        for method in refused:
            response = await client.request(method, path)
            assert set(allow_of(response)) == methods, (method, path)
            if method != "HEAD":
                assert response.headers["content-type"] in {"application/problem+json", "application/json"}


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("OPTIONS", "/developer/v1/apps", ["GET", "POST"]),
        ("DELETE", "/developer/v1/apps", ["GET", "POST"]),
        ("OPTIONS", "/developer/v1/apps/gw_app_x", ["GET", "PATCH", "DELETE"]),
        ("PUT", "/developer/v1/apps/gw_app_x", ["GET", "PATCH", "DELETE"]),
        ("OPTIONS", "/manage/v1/api-keys", ["GET", "POST"]),
        ("OPTIONS", "/oauth/token", ["POST"]),
        ("OPTIONS", "/healthz", ["GET"]),
        # Pages are not in the OpenAPI document: the sign-in and consent pages take GET and POST.
        ("OPTIONS", "/login", ["GET", "POST"]),
        ("PUT", "/consent/some-request", ["GET", "POST"]),
        # A mount keeps its own answer: static files take GET and HEAD.
        ("POST", "/static/gateway.css", ["GET", "HEAD"]),
    ],
)
async def test_allow_in_order(client: httpx.AsyncClient, method: str, path: str, allow: list[str]) -> None:
    assert allow_of(await client.request(method, path)) == allow


async def test_the_oauth_endpoints_keep_their_error_format(client: httpx.AsyncClient) -> None:
    response = await client.request("OPTIONS", "/oauth/revoke")
    assert allow_of(response) == ["POST"]
    assert response.json()["error"] == "invalid_request"


async def test_a_405_changes_nothing_the_request_routes_by(client: httpx.AsyncClient) -> None:
    """Asking every route does not disturb the request: the next request on the path is answered as usual."""
    assert (await client.request("OPTIONS", "/healthz")).status_code == 405
    assert (await client.get("/healthz")).json() == {"status": "ok"}
