"""Errors raised before an OAuth endpoint runs (wrong method, body too large, no route) still answer in
RFC 6749 §5.2 JSON with no-store (SPEC §6), not problem+json."""

from __future__ import annotations

import httpx
import pytest

from tests.support.http import FORM


def assert_oauth_json(response: httpx.Response, status: int) -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["error"] == "invalid_request"
    assert body["error_description"]


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
async def test_wrong_method(client: httpx.AsyncClient, path: str) -> None:
    assert_oauth_json(await client.get(path), 405)


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
async def test_declared_body_too_large(client: httpx.AsyncClient, path: str) -> None:
    response = await client.post(path, content=b"a=" + b"x" * (2 * 1024 * 1024), headers=FORM)
    assert_oauth_json(response, 413)


async def test_streamed_body_too_large(client: httpx.AsyncClient) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b"x" * 65536

    response = await client.post("/oauth/token", content=chunks(), headers=FORM)
    assert_oauth_json(response, 400)  # the token endpoint stops reading at its own 16 KiB form limit


async def test_unknown_oauth_path(client: httpx.AsyncClient) -> None:
    assert_oauth_json(await client.post("/oauth/nothing-here", data={"a": "b"}), 404)


async def test_elsewhere_problem_json_is_kept(client: httpx.AsyncClient) -> None:
    response = await client.get("/manage/v1/nothing-here")
    assert response.headers["content-type"] == "application/problem+json"
