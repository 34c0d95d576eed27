"""The OpenAPI document the app serves, for tests that go through every operation in it."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from gateway.app import create_app
from gateway.settings import Settings
from tests.support.http import TEST_ISSUER

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@cache
def served_schema() -> dict[str, Any]:
    """What `/openapi.json` serves: the app's own `openapi()`, from an app that is never started (nothing is
    opened or stored to build it), so it can be read while tests are collected."""
    settings = Settings(
        environment="test",
        database_url="sqlite+aiosqlite:///:memory:",
        master_key=base64.b64encode(os.urandom(32)).decode(),
        issuer=TEST_ISSUER,
    )
    return create_app(settings).openapi()


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str
    spec: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def parameters(self) -> list[dict[str, Any]]:
        return [resolve(parameter) for parameter in self.spec.get("parameters", [])]

    def parameters_in(self, location: str) -> list[dict[str, Any]]:
        return [parameter for parameter in self.parameters if parameter["in"] == location]

    @property
    def security(self) -> list[str]:
        """The security schemes the operation accepts (any one of them)."""
        return [name for requirement in self.spec.get("security", []) for name in requirement]

    def body(self) -> tuple[str, dict[str, Any]] | None:
        """(media type, resolved schema) of the request body, if it takes one."""
        content = self.spec.get("requestBody", {}).get("content", {})
        for media_type, entry in content.items():
            return media_type, resolve(entry.get("schema", {}))
        return None


def operations() -> Iterator[Operation]:
    for path, item in served_schema()["paths"].items():
        for method, spec in item.items():
            if method in METHODS:
                yield Operation(method.upper(), path, spec)


def resolve(schema: Any) -> Any:
    """`schema` with its `$ref` (to `#/components/…`) followed, at the top level only."""
    while isinstance(schema, dict) and "$ref" in schema:
        node: Any = served_schema()
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = {**node, **{key: value for key, value in schema.items() if key != "$ref"}}
    return schema


def without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional value's schema (`anyOf: [X, null]`) as X."""
    options = [option for option in schema.get("anyOf", []) if resolve(option).get("type") != "null"]
    if len(options) == 1:
        rest = {key: value for key, value in schema.items() if key != "anyOf"}
        return {**resolve(options[0]), **rest}
    return resolve(schema)
