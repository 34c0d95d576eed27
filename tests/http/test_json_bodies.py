"""Every JSON body endpoint answers 400 `malformed-json` for a body that is not JSON: bytes that are not
UTF-8, text that is not JSON (`NaN` included) and nesting deeper than `MAX_DEPTH` — never a bare 400 or
a 500, whoever sends it (bodies are parsed before the caller is authenticated)."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi import FastAPI

from gateway.http.json_body import MAX_DEPTH, parse_json_body

MALFORMED = "urn:gateway:problem:malformed-json"
JSON = {"content-type": "application/json"}


def nested(depth: int) -> bytes:
    """`{"name": [[…]]}`: arrays and objects `depth` deep in all."""
    return b'{"name": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


NOT_JSON = {
    "latin-1": '{"name": "Café"}'.encode("latin-1"),
    "lone continuation byte": b'{"name": "\x80"}',
    "utf-8 surrogate": b'{"name": "\xed\xa0\x80"}',
    "utf-16": '{"name": "x"}'.encode("utf-16"),
    "truncated": b'{"name": ',
    "trailing garbage": b'{"name": "x"} x',
    "NaN": b'{"name": NaN}',
    "Infinity": b'{"year": -Infinity}',
    "a number of 5,000 digits": b'{"year": ' + b"9" * 5000 + b"}",
    "one level too deep": nested(MAX_DEPTH + 1),
    "far too deep for Python's recursion": b"[" * 100_000 + b"]" * 100_000,
}


def json_body_operations(app: FastAPI) -> list[tuple[str, str]]:
    paths = app.openapi()["paths"]
    found = [
        (method.upper(), path.replace("{resource}", "students").replace("{client_id}", "gw_app_x"))
        for path, operations in paths.items()
        for method, operation in operations.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]
    some_id = "00000000-0000-4000-8000-000000000000"
    return [
        (method, path.replace("{grant_id}", some_id).replace("{request_id}", some_id))
        for method, path in found
    ]


def test_the_body_endpoints_are_the_ones_we_think(app: FastAPI) -> None:
    assert {path for _, path in json_body_operations(app)} == {
        "/connector/v1/students/batch",
        "/connector/v1/syncs",
        "/manage/v1/api-keys",
        "/developer/v1/apps",
        "/developer/v1/apps/gw_app_x",
        "/manage/v1/grants/00000000-0000-4000-8000-000000000000/narrow",
        "/manage/v1/support-requests/00000000-0000-4000-8000-000000000000/approve",
        "/manage/v1/support-requests/00000000-0000-4000-8000-000000000000/shorten",
    }


@pytest.mark.parametrize("name", NOT_JSON)
async def test_every_json_endpoint_refuses_what_is_not_json(
    client: httpx.AsyncClient, app: FastAPI, name: str
) -> None:
    for method, path in json_body_operations(app):
        response = await client.request(method, path, content=NOT_JSON[name], headers=JSON)
        assert response.status_code == 400, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["type"] == MALFORMED
        assert body["detail"].startswith("The request body is not valid JSON")
        assert "Café" not in response.text


async def test_as_deep_as_allowed_is_parsed(client: httpx.AsyncClient, app: FastAPI) -> None:
    """At the limit the body is JSON: what answers is authentication (or validation), not the parser."""
    for method, path in json_body_operations(app):
        response = await client.request(method, path, content=nested(MAX_DEPTH), headers=JSON)
        assert response.status_code in {401, 422}, (method, path, response.text)


async def test_the_detail_says_why(client: httpx.AsyncClient) -> None:
    deep = await client.post("/developer/v1/apps", content=nested(MAX_DEPTH + 1), headers=JSON)
    assert deep.json()["detail"] == f"The request body is not valid JSON: nested more than {MAX_DEPTH} deep."
    latin = await client.post("/developer/v1/apps", content=NOT_JSON["latin-1"], headers=JSON)
    assert latin.json()["detail"] == "The request body is not valid JSON: the body is not UTF-8."


@pytest.mark.parametrize(
    ("body", "value"),
    [
        (b'{"a": [1, 2.5, "x", true, null]}', {"a": [1, 2.5, "x", True, None]}),
        ('{"name": "école 😀"}'.encode(), {"name": "école 😀"}),
        (b'\xef\xbb\xbf{"a": 1}', {"a": 1}),  # a byte-order mark is ignored, as json.loads does
        (b'{"a": "\\u0000", "b": "\\ud800"}', {"a": "\x00", "b": "\ud800"}),  # db.unstorable refuses these
        (b'{"a": 1, "a": 2}', {"a": 2}),
        (nested(MAX_DEPTH), {"name": json.loads(b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1))}),
        (b"123", 123),
    ],
)
def test_what_is_json_reads_as_json_loads_reads_it(body: bytes, value: object) -> None:
    assert parse_json_body(body) == value


def test_a_parse_error_carries_no_part_of_the_body() -> None:
    for body in NOT_JSON.values():
        with pytest.raises(json.JSONDecodeError) as raised:
            parse_json_body(body)
        assert raised.value.doc == ""
