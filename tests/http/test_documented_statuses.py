"""Each operation answers only statuses its OpenAPI entry lists, for hostile input as for good.

Every operation is called with the right credentials and: NUL and undecodable bytes in each path and
query parameter, an empty value where the schema allows one, a body holding NUL, and a body that is not
JSON. Whatever it answers must be in its `responses` (a 400 `unstorable-value` included), and never a 5xx.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.app import create_app
from gateway.auth.passwords import CHEAP_TEST_PARAMETERS, PasswordHashing
from gateway.connector import keys as connector_keys
from gateway.db.base import utcnow
from gateway.db.session import Database
from gateway.keys.keyring import Keyring
from gateway.settings import Settings
from gateway.tokens import issuance
from tests.support.apps import registration
from tests.support.consent_flow import make_party
from tests.support.grants import connect, mint
from tests.support.http import TEST_ISSUER, bearer

# In a URL: NUL, NUL inside text, and percent-encoded bytes that are no UTF-8 (a CESU-8 surrogate).
HOSTILE = ("%00", "a%00b", "%ED%A0%80")
# Calls that change the credentials the others use go last.
LAST = {("POST", "/developer/v1/keys/rotate"), ("POST", "/api/v1/app/disconnect")}
# A body per JSON operation, with a NUL in a value the operation reads.
NUL_BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/developer/v1/apps"): registration(name="Planner\x00", description="a\x00b"),
    ("PATCH", "/developer/v1/apps/{client_id}"): {"description": "a\x00b"},
    ("POST", "/manage/v1/api-keys"): {"name": "Script\x00"},
    ("POST", "/manage/v1/grants/{grant_id}/narrow"): {"remove_scopes": ["students.\x00"]},
    ("POST", "/connector/v1/{resource}/batch"): {"delete": ["stu\x00"], "upsert": [{"id": "a\x00"}]},
    ("POST", "/connector/v1/syncs"): {"resources": ["students\x00"]},
    ("POST", "/manage/v1/support-requests/{request_id}/approve"): {"hours": "4\x00"},
    ("POST", "/manage/v1/support-requests/{request_id}/shorten"): {"until": "2026-12-05T10:00:00\x00"},
}


@dataclass
class Credentials:
    by_scheme: dict[str, dict[str, str]]
    app_token: dict[str, str]
    client_id: str
    grant_id: str

    def for_operation(self, path: str, operation: dict[str, Any]) -> dict[str, str]:
        if path == "/api/v1/app/schools":
            return self.app_token
        schemes = [name for requirement in operation.get("security", []) for name in requirement]
        return self.by_scheme.get(schemes[0], {}) if schemes else {}


@pytest.fixture
async def credentials(session: AsyncSession, keyring: Keyring, settings: Settings) -> Credentials:
    party = await make_party(session, keyring, "statuses@vale.example.org")
    connected = await connect(session, party)
    school_token = bearer(await mint(session, settings, connected))
    minted = await issuance.app_access_token(
        session, keyring, issuer=settings.issuer, app=party.app, scopes=["school"], now=utcnow()
    )
    _row, connector_key = await connector_keys.create_key(session, keyring, party.school.id, actor="operator")
    await session.commit()
    return Credentials(
        by_scheme={
            "developerKey": bearer(party.developer.key),
            "schoolApiKey": bearer(connected.key),
            "connectorKey": bearer(connector_key),
            "accessToken": school_token,
            "schoolAuthorization": school_token,
        },
        app_token=bearer(minted.token),
        client_id=party.app.client_id,
        grant_id=str(connected.grant.id),
    )


def path_value(credentials: Credentials, parameter: dict[str, Any]) -> str:
    """A value that reaches the operation: a real id where there is one."""
    if "enum" in parameter["schema"]:
        return str(parameter["schema"]["enum"][0])
    return {"client_id": credentials.client_id, "grant_id": credentials.grant_id}.get(
        parameter["name"], "some-id"
    )


def allows_empty(schema: dict[str, Any]) -> bool:
    options = schema.get("anyOf", [schema])
    return any(
        option.get("type") == "string" and not {"minLength", "pattern", "format", "enum"} & option.keys()
        for option in options
    )


def requests_for(
    credentials: Credentials, path: str, method: str, operation: dict[str, Any]
) -> list[tuple[str, str, bytes | None, dict[str, str]]]:
    """(what, URL, body, extra headers) for each hostile request to send to the operation."""
    parameters = [p for p in operation.get("parameters", []) if p["in"] in {"path", "query"}]
    plain = {p["name"]: quote(path_value(credentials, p), safe="") for p in parameters if p["in"] == "path"}

    def url(name: str | None = None, raw: str = "") -> str:
        values = {**plain, **({name: raw} if name is not None else {})}
        target = path
        for parameter in parameters:
            if parameter["in"] == "path":
                target = target.replace("{" + parameter["name"] + "}", values[parameter["name"]])
        query = [
            f"{p['name']}={values[p['name']]}"
            for p in parameters
            if p["in"] == "query" and p["name"] in values
        ]
        return target + ("?" + "&".join(query) if query else "")

    cases: list[tuple[str, str, bytes | None, dict[str, str]]] = [("as documented", url(), None, {})]
    for parameter in parameters:
        values = list(HOSTILE)
        if parameter["in"] == "query" and allows_empty(parameter["schema"]):
            values.append("")
        cases += [
            (f"{parameter['name']}={value!r}", url(parameter["name"], value), None, {}) for value in values
        ]
    json_body = "application/json" in operation.get("requestBody", {}).get("content", {})
    if json_body:
        example = NUL_BODIES.get((method.upper(), path))
        assert example is not None, f"a new JSON body operation: add {method.upper()} {path} to NUL_BODIES"
        nul = json.dumps(example).encode()
        cases += [
            ("a body holding NUL", url(), nul, {"content-type": "application/json"}),
            ("a body that is not UTF-8", url(), b'{"name": "\xff"}', {"content-type": "application/json"}),
        ]
    if method in {"post", "patch"} and "application/x-www-form-urlencoded" not in operation.get(
        "requestBody", {}
    ).get("content", {}):
        cases.append(("a body that is not JSON", url(), b"name=x", {"content-type": "text/plain"}))
    return cases


async def test_every_answer_is_documented(
    client: httpx.AsyncClient, app: FastAPI, credentials: Credentials
) -> None:
    paths = app.openapi()["paths"]
    operations = [(path, method, op) for path, ops in paths.items() for method, op in ops.items()]
    operations.sort(key=lambda item: (item[1].upper(), item[0]) in LAST)
    undocumented: list[str] = []
    for path, method, operation in operations:
        headers = credentials.for_operation(path, operation)
        for what, target, body, extra in requests_for(credentials, path, method, operation):
            response = await client.request(
                method.upper(), target, content=body, headers={**headers, **extra}
            )
            assert response.status_code < 500, (method, path, what, response.text)
            if str(response.status_code) not in operation["responses"]:
                undocumented.append(f"{method.upper()} {path} [{what}]: {response.status_code}")
    assert undocumented == []


async def test_an_empty_query_value_the_schema_allows_is_accepted(
    client: httpx.AsyncClient, app: FastAPI, credentials: Credentials
) -> None:
    """Where a query parameter's schema allows "", the server takes "" (the others: `minLength`, a pattern, a
    format or an enum). `/oauth/authorize` needs all its parameters at once and answers with pages: its
    own tests cover it."""
    checked = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            if path == "/oauth/authorize":
                continue
            headers = credentials.for_operation(path, operation)
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "query" or not allows_empty(parameter["schema"]):
                    continue
                target = requests_for(credentials, path, method, operation)[0][1]
                separator = "&" if "?" in target else "?"
                response = await client.request(
                    method.upper(), f"{target}{separator}{parameter['name']}=", headers=headers
                )
                assert response.status_code < 400, (path, parameter["name"], response.text)
                checked.append(f"{path}?{parameter['name']}")
    assert sorted(checked) == ["/manage/v1/access-log?client_id", "/manage/v1/access-log?resource"]


async def test_a_nul_in_a_client_id_is_the_documented_400(
    client: httpx.AsyncClient, credentials: Credentials, app: FastAPI
) -> None:
    paths = app.openapi()["paths"]
    for method in ("get", "delete"):
        response = await client.request(
            method.upper(), "/developer/v1/apps/gw_app_%00", headers=credentials.by_scheme["developerKey"]
        )
        assert response.status_code == 400
        assert response.json()["type"] == "urn:gateway:problem:unstorable-value"
        assert "400" in paths["/developer/v1/apps/{client_id}"][method]["responses"]


@pytest.fixture
async def limited_client(
    settings: Settings, test_database: Database, master_key_b64: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with an access-token limit of two requests a minute."""
    app = create_app(
        settings.model_copy(update={"api_rate_limit": "2/minute"}),
        database=test_database,
        master_key=base64.b64decode(master_key_b64),
        password_hashing=PasswordHashing(CHEAP_TEST_PARAMETERS),
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=TEST_ISSUER) as client:
        yield client


async def test_the_app_endpoints_document_their_rate_limit(
    limited_client: httpx.AsyncClient, credentials: Credentials, app: FastAPI
) -> None:
    statuses = [
        (await limited_client.get("/api/v1/app/schools", headers=credentials.app_token)).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    for path, method in (("/api/v1/app/schools", "get"), ("/api/v1/app/disconnect", "post")):
        assert "429" in app.openapi()["paths"][path][method]["responses"]
