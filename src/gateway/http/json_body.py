"""JSON request bodies, parsed in one place: UTF-8 only, valid JSON, nested at most `MAX_DEPTH` deep.

Every JSON API's router is made by `json_api_router`, whose routes are `JsonBodyRoute`s. FastAPI parses
a body through `Request.json()` and turns a `json.JSONDecodeError` into its `json_invalid` validation
error, which `http.error_responses` answers as 400 `urn:gateway:problem:malformed-json`; so every way a
body can fail to be JSON raises that error here. Without this, FastAPI answers bytes that are not UTF-8,
and nesting deep enough to exhaust Python's recursion, with a bare 400, and passes any depth below that on
to validation.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from enum import Enum
from typing import Any, Final

from fastapi import APIRouter, Depends, Request, Response
from fastapi.routing import APIRoute

from gateway.http.content_type import require_json

# Arrays and objects inside one another. No body of ours needs more than 4 (a batch, a record, a list in
# it, an object in that); 64 leaves room for any record schema and stops pathological input early.
MAX_DEPTH: Final = 64
_BOM: Final = "\ufeff"


def _too_deep(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` deep (an iterative walk: no recursion)."""
    if not isinstance(value, dict | list):
        return False
    stack: list[tuple[dict[str, Any] | list[Any], int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False


def _refuse_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not JSON", "", 0)


def parse_json_body(body: bytes) -> Any:
    """The body's JSON value, or `json.JSONDecodeError` (which carries no part of the body).

    RFC 8259: JSON between systems is UTF-8 (a leading byte-order mark is ignored, as the standard library
    does) and has no `NaN` or `Infinity`. Otherwise numbers, strings and duplicate names are read as
    `json.loads` reads them (text or numbers the database cannot store are refused later, `db.unstorable`).
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise json.JSONDecodeError("the body is not UTF-8", "", error.start) from None
    try:
        value = json.loads(text.removeprefix(_BOM), parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise json.JSONDecodeError(error.msg, "", error.pos) from None
    except RecursionError:
        raise json.JSONDecodeError(f"nested more than {MAX_DEPTH} deep", "", 0) from None
    except ValueError:  # an integer of more than 4,300 digits (Python's conversion limit)
        raise json.JSONDecodeError("a number is too long", "", 0) from None
    if _too_deep(value, MAX_DEPTH):
        raise json.JSONDecodeError(f"nested more than {MAX_DEPTH} deep", "", 0)
    return value


class JsonBodyRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_json_body(await self.body())
        return self._json


class JsonBodyRoute(APIRoute):
    """A route whose JSON body goes through `parse_json_body` (FastAPI's documented custom-request hook)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_strict_json(request: Request) -> Response:
            return await handler(JsonBodyRequest(request.scope, request.receive))

        return with_strict_json


def json_api_router(*, prefix: str, tags: list[str | Enum]) -> APIRouter:
    """The router of a JSON API: bodies must be JSON (`require_json`, else 415) and parse strictly."""
    return APIRouter(
        prefix=prefix, tags=tags, dependencies=[Depends(require_json)], route_class=JsonBodyRoute
    )
