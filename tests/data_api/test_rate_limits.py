"""The per-token rate limit of `/api/v1` (SPEC §5): counted by `jti`, 429 with Retry-After, and the
RateLimit header fields of draft-ietf-httpapi-ratelimit-headers on every answer to a counted request.

The app here is built with a tiny limit (3 a minute); the Redis test shares one limit between two app
instances, as two processes would. Redis must be reachable (GATEWAY_TEST_REDIS_URL, default the
machine's 127.0.0.1:6379): the test fails, never skips, when it is not.
"""

from __future__ import annotations

import base64
import os
import re
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from gateway.app import create_app
from gateway.auth.passwords import CHEAP_TEST_PARAMETERS, PasswordHashing
from gateway.db.session import Database
from gateway.http.api_limits import ApiRateLimit
from gateway.settings import Settings
from tests.support.http import TEST_ISSUER, bearer
from tests.support.world import World

LIMIT = 3
WINDOW = 60
STUDENTS = "/api/v1/students"
REDIS_URL = os.environ.get("GATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
_RATELIMIT = re.compile(r'^"default";r=(\d+);t=(\d+)$')


def limited_app(settings: Settings, database: Database, master_key_b64: str, **changes: object) -> FastAPI:
    return create_app(
        settings.model_copy(update={"api_rate_limit": f"{LIMIT}/minute", **changes}),
        database=database,
        master_key=base64.b64decode(master_key_b64),
        password_hashing=PasswordHashing(CHEAP_TEST_PARAMETERS),
    )


@asynccontextmanager
async def client_of(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=TEST_ISSUER) as client:
        yield client


@pytest.fixture
async def limited(
    settings: Settings, test_database: Database, master_key_b64: str
) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(limited_app(settings, test_database, master_key_b64)) as client:
        yield client


async def school_token(world: World, scopes: tuple[str, ...] = ("school", "students.basic")) -> str:
    school = await world.school()
    app = await world.app()
    grant = await world.grant(school, app, scopes=scopes)
    return (await world.school_token(app, grant, scopes=scopes)).token


def quota(headers: Mapping[str, str]) -> tuple[int, int]:
    """(remaining, seconds to reset) from `RateLimit`, after checking `RateLimit-Policy`."""
    assert headers["ratelimit-policy"] == f'"default";q={LIMIT};w={WINDOW}'
    match = _RATELIMIT.fullmatch(headers["ratelimit"])
    assert match is not None, headers["ratelimit"]
    remaining, reset = int(match[1]), int(match[2])
    assert 0 <= reset <= WINDOW
    return remaining, reset


async def test_headers_count_down_then_429_with_retry_after(limited: httpx.AsyncClient, world: World) -> None:
    headers = bearer(await school_token(world))
    remaining = []
    for _ in range(LIMIT):
        response = await limited.get(STUDENTS, headers=headers)
        assert response.status_code == 200, response.text
        remaining.append(quota(response.headers)[0])
    assert remaining == [2, 1, 0]

    refused = await limited.get(STUDENTS, headers=headers)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["type"] == "urn:gateway:problem:rate-limited"
    assert problem["status"] == 429
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= WINDOW
    assert quota(refused.headers)[0] == 0

    # Refused requests are not counted, and every later one is refused too.
    again = await limited.get(f"{STUDENTS}/anything", headers=headers)
    assert again.status_code == 429


async def test_each_token_has_its_own_budget(limited: httpx.AsyncClient, world: World) -> None:
    school = await world.school()
    app = await world.app()
    grant = await world.grant(school, app, scopes=("school", "students.basic"))
    first = bearer((await world.school_token(app, grant, scopes=("school", "students.basic"))).token)
    second = bearer((await world.school_token(app, grant, scopes=("school", "students.basic"))).token)
    for _ in range(LIMIT):
        assert (await limited.get(STUDENTS, headers=first)).status_code == 200
    assert (await limited.get(STUDENTS, headers=first)).status_code == 429

    response = await limited.get(STUDENTS, headers=second)
    assert response.status_code == 200
    assert quota(response.headers)[0] == LIMIT - 1


async def test_headers_on_errors_and_not_modified_too(limited: httpx.AsyncClient, world: World) -> None:
    headers = bearer(await school_token(world))
    first = await limited.get(STUDENTS, headers=headers)
    assert quota(first.headers)[0] == 2

    # 304 (a response the router builds itself) and a 403 raised inside the endpoint.
    unchanged = await limited.get(STUDENTS, headers={**headers, "if-none-match": first.headers["etag"]})
    assert unchanged.status_code == 304
    assert quota(unchanged.headers)[0] == 1
    ungranted = await limited.get("/api/v1/staff", headers=headers)
    assert ungranted.status_code == 403
    assert quota(ungranted.headers)[0] == 0


async def test_a_refused_token_is_not_counted_and_gets_no_quota(
    limited: httpx.AsyncClient, world: World
) -> None:
    token = await school_token(world)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for _ in range(LIMIT + 1):
        response = await limited.get(STUDENTS, headers=bearer(forged))
        assert response.status_code == 401
        assert "ratelimit" not in response.headers
    assert quota((await limited.get(STUDENTS, headers=bearer(token))).headers)[0] == LIMIT - 1


async def test_app_api_answers_carry_the_headers(limited: httpx.AsyncClient, world: World) -> None:
    app = await world.app()
    headers = bearer((await world.app_token(app)).token)
    for expected in (2, 1, 0):
        response = await limited.get("/api/v1/app/schools", headers=headers)
        assert response.status_code == 200, response.text
        assert quota(response.headers)[0] == expected
    assert (await limited.get("/api/v1/app/schools", headers=headers)).status_code == 429


async def test_disconnect_carries_the_headers(limited: httpx.AsyncClient, world: World) -> None:
    headers = bearer(await school_token(world))
    response = await limited.post("/api/v1/app/disconnect", headers=headers)
    assert response.status_code == 204
    assert quota(response.headers)[0] == LIMIT - 1


def _redis_reachable(url: str) -> None:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=2):
            return
    except OSError as exc:
        pytest.fail(
            f"Redis is needed for the shared rate-limit test and is not reachable at {url} ({exc}). "
            "Start it (redis-server on 127.0.0.1:6379) or set GATEWAY_TEST_REDIS_URL."
        )


async def test_redis_store_shares_the_budget_between_processes(
    settings: Settings, test_database: Database, master_key_b64: str, world: World
) -> None:
    """Two app instances (two processes' worth of in-memory state) on one Redis: one budget."""
    _redis_reachable(REDIS_URL)
    headers = bearer(await school_token(world))
    first_app = limited_app(settings, test_database, master_key_b64, redis_url=REDIS_URL)
    second_app = limited_app(settings, test_database, master_key_b64, redis_url=REDIS_URL)
    async with client_of(first_app) as first, client_of(second_app) as second:
        seen = []
        for client in (first, second, first):
            response = await client.get(STUDENTS, headers=headers)
            assert response.status_code == 200, response.text
            seen.append(quota(response.headers)[0])
        assert seen == [2, 1, 0]
        refused = await second.get(STUDENTS, headers=headers)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
    assert isinstance(first_app.state.api_rate_limit, ApiRateLimit)
