"""Every non-OAuth error is RFC 9457 problem+json, with no stack trace and no echo of the input."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel, Field

from gateway.errors import Conflict, NotFound
from gateway.http.content_type import require_json
from gateway.settings import Settings
from tests.support.http import TEST_ISSUER

PROBLEM = "application/problem+json"


class Pupil(BaseModel):
    name: str = Field(max_length=50)
    year: int = Field(ge=0, le=14)
    tags: list[str] = Field(default_factory=list, max_length=3)


probe = APIRouter(prefix="/probe", dependencies=[Depends(require_json)])


@probe.post("/pupils", status_code=201)
async def create_pupil(pupil: Pupil) -> Pupil:
    return pupil


@probe.get("/missing/{pupil_id}")
async def missing(pupil_id: str) -> None:
    raise NotFound("No such pupil.")


@probe.post("/conflict")
async def conflict() -> None:
    raise Conflict("Already there.", errors=[{"detail": "taken", "pointer": "#/name"}])


@probe.get("/crash")
async def crash() -> None:
    raise RuntimeError("secret-internal-detail at /srv/gateway/db.py line 42")


@pytest.fixture
def probe_app(app: FastAPI) -> FastAPI:
    app.include_router(probe)
    return app


@pytest.fixture
async def probe_client(probe_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=probe_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=TEST_ISSUER) as client:
        yield client


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= body.keys()
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def test_valid_json_is_accepted(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.post("/probe/pupils", json={"name": "Ada", "year": 7})
    assert response.status_code == 201
    assert response.json() == {"name": "Ada", "year": 7, "tags": []}


async def test_malformed_json_is_400(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.post(
        "/probe/pupils", content=b'{"name": "Ada", "year":', headers={"content-type": "application/json"}
    )
    body = assert_problem(response, 400)
    assert body["type"] == "urn:gateway:problem:malformed-json"


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""]
)
async def test_wrong_content_type_is_415(probe_client: httpx.AsyncClient, content_type: str) -> None:
    response = await probe_client.post(
        "/probe/pupils", content=b'{"name": "Ada", "year": 7}', headers={"content-type": content_type}
    )
    body = assert_problem(response, 415)
    assert body["type"] == "urn:gateway:problem:unsupported-media-type"


async def test_json_with_charset_and_vendor_suffix_is_accepted(probe_client: httpx.AsyncClient) -> None:
    for content_type in ("application/json; charset=utf-8", "application/vnd.gateway+json"):
        response = await probe_client.post(
            "/probe/pupils", content=b'{"name": "Ada", "year": 7}', headers={"content-type": content_type}
        )
        assert response.status_code == 201, content_type


async def test_missing_and_invalid_fields_are_listed_by_pointer(probe_client: httpx.AsyncClient) -> None:
    hostile = "<script>alert(1)</script>" * 10
    response = await probe_client.post("/probe/pupils", json={"name": hostile, "tags": ["a", "b", "c", "d"]})
    body = assert_problem(response, 422)
    assert body["type"] == "urn:gateway:problem:validation-error"
    pointers = {error["pointer"] for error in body["errors"]}  # type: ignore[attr-defined]
    assert pointers == {"#/name", "#/year", "#/tags"}
    assert "<script>" not in response.text


async def test_wrong_types_in_nested_positions(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.post("/probe/pupils", json={"name": "Ada", "year": "seven", "tags": [1]})
    body = assert_problem(response, 422)
    pointers = {error["pointer"] for error in body["errors"]}  # type: ignore[attr-defined]
    assert pointers == {"#/year", "#/tags/0"}


async def test_a_json_array_instead_of_an_object(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.post("/probe/pupils", json=[1, 2, 3])
    assert_problem(response, 422)


async def test_oversized_body_is_413_before_it_is_read(
    probe_client: httpx.AsyncClient, settings: Settings
) -> None:
    big = json.dumps({"name": "x" * (settings.max_body_bytes + 10), "year": 7}).encode()
    response = await probe_client.post(
        "/probe/pupils", content=big, headers={"content-type": "application/json"}
    )
    assert_problem(response, 413)


async def test_oversized_chunked_body_is_413(probe_client: httpx.AsyncClient, settings: Settings) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(settings.max_body_bytes // 65536 + 2):
            yield b"x" * 65536
        yield b'", "year": 7}'

    response = await probe_client.post(
        "/probe/pupils", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(response, 413)


async def test_unknown_route_is_404(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/no/such/thing?token=not-echoed-zq"), 404)
    assert "not-echoed-zq" not in json.dumps(body)  # a marker no request id (hex) can contain


async def test_wrong_method_is_405_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete("/healthz")
    assert_problem(response, 405)
    assert response.headers["allow"] == "GET"


async def test_domain_problems_render_with_their_type(probe_client: httpx.AsyncClient) -> None:
    body = assert_problem(await probe_client.get("/probe/missing/123"), 404)
    assert body["type"] == "urn:gateway:problem:not-found"
    assert body["detail"] == "No such pupil."
    body = assert_problem(await probe_client.post("/probe/conflict"), 409)
    assert body["errors"] == [{"detail": "taken", "pointer": "#/name"}]


async def test_unhandled_error_is_a_generic_500(
    probe_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await probe_client.get("/probe/crash")
    body = assert_problem(response, 500)
    assert "secret-internal-detail" not in response.text
    assert "Traceback" not in response.text
    assert body["detail"].startswith("Something went wrong")  # type: ignore[union-attr]
    assert response.headers["x-frame-options"] == "DENY"
    assert any(record.levelname == "ERROR" for record in caplog.records)


async def test_security_headers_on_every_response(client: httpx.AsyncClient) -> None:
    for response in (
        await client.get("/healthz"),
        await client.get("/nope"),
        await client.delete("/healthz"),
    ):
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["cache-control"] == "no-store"
        assert "access-control-allow-origin" not in response.headers
        assert "server" not in response.headers


async def test_request_ids_are_kept_when_plain_and_replaced_when_hostile(client: httpx.AsyncClient) -> None:
    kept = await client.get("/healthz", headers={"x-request-id": "abc-123_DEF.456"})
    assert kept.headers["x-request-id"] == "abc-123_DEF.456"
    for hostile in ("a\u2028b-and-more".encode(), b"x" * 65, b"short", b"../../etc/passwd", b"id\r\nx: y"):
        response = await client.get("/healthz", headers={"x-request-id": hostile})
        assert response.headers["x-request-id"].encode() != hostile
        assert len(response.headers["x-request-id"]) == 32
