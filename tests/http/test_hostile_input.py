"""Hostile input to every operation of the OpenAPI document the app serves: a 4xx in the endpoint's own
format, never a 5xx, and nothing written (SPEC §5, §6; issue 12).

The operations come from the served document (`tests.support.openapi`), so a new endpoint is covered the
day it is added. Each starts from a valid request, sent with the credential the operation takes (the values
reach the handler, not only the authentication check), and changes one input at a time:

- `nul`: a NUL in a path segment, a query parameter or a form field (`%00`), or a JSON string (`\\u0000`);
- `surrogate`: a lone surrogate in a JSON string (`\\ud800`), bytes that are no UTF-8 in a form field;
- `long`: a 10 KB string;
- `big-number`: an integer beyond 64 bits, where the schema takes a number;
- `wrong-type`: a value of another type, or outside the schema's pattern, enum or format;
- `duplicate`: a query parameter or form field given twice;
- `credential`: a NUL, a 10 KB or a non-ASCII credential in `Authorization`; on `/manage/v1`, a NUL or
  10 KB session cookie, and a valid one with a NUL or 10 KB CSRF header.

Expected: on `/oauth/*`, RFC 6749 JSON with `error` (`/oauth/authorize` sends the browser back with the
error or shows a page); everywhere else RFC 9457 problem+json. Row counts of every table are compared
before and after each request.
"""

from __future__ import annotations

import base64
import copy
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from gateway.app import create_app
from gateway.auth.passwords import CHEAP_TEST_PARAMETERS, PasswordHashing
from gateway.db.session import Database
from gateway.keys.keyring import Keyring
from gateway.settings import Settings
from tests.support import records
from tests.support.apps import REDIRECT_URI, registration
from tests.support.credentials import RECORDS, Credentials, issue_credentials
from tests.support.databases import MigratedDatabase
from tests.support.http import TEST_ISSUER
from tests.support.openapi import Operation, operations, resolve, served_schema, without_null
from tests.support.pkce import Pkce
from tests.support.row_counts import changed, row_counts

TEN_KB = "x" * 10_240
BEYOND_64_BITS = 2**64
FORM = "application/x-www-form-urlencoded"

# Path parameters that name something of the credentials' own school or app, filled in when sent.
KNOWN = (
    "client_id",
    "grant_id",
    "prefix",
    "record_id",
    "message_id",
)  # a record the school lacks: one it could have
# Valid values the schema alone does not give.
PATH_VALUES = {"resource": "students"}
AUTHORIZE = {
    "response_type": "code",
    "client_id": "{client_id}",
    "redirect_uri": REDIRECT_URI,
    "scope": "school groups students.basic",
    "state": "hostile-state",
    "code_challenge": Pkce().challenge,
    "code_challenge_method": "S256",
}
BODIES: dict[str, Any] = {
    "POST /developer/v1/apps": registration(),
    "PATCH /developer/v1/apps/{client_id}": {"description": "Sets homework for classes and sets."},
    "POST /manage/v1/api-keys": {"name": "Nightly report"},
    "POST /manage/v1/grants/{grant_id}/narrow": {"remove_scopes": ["students.sen"]},
    "POST /connector/v1/{resource}/batch": {"upsert": [records.student(1)], "delete": ["stu-09999"]},
    "POST /connector/v1/syncs": {"resources": ["students"]},
    "POST /oauth/token": {"grant_type": "client_credentials", "scope": "school"},
    "POST /oauth/revoke": {"token": "gw_rt_" + "a" * 43},
    "POST /oauth/introspect": {"token": "gw_rt_" + "a" * 43},
}


@dataclass
class Hostile:
    """One request: the operation's valid request with one input changed."""

    kind: str
    what: str
    path: dict[str, str] = field(default_factory=dict)  # parameter → percent-encoded text
    query: list[tuple[str, str]] | None = None  # (name, percent-encoded value); None: the valid query
    headers: dict[str, str | bytes] = field(default_factory=dict)
    body: bytes | None = None  # None: the valid body
    authorization: str | bytes | None = None  # replaces the credential
    # An admin session instead: (cookie, CSRF header), None for the admin's own.
    session: tuple[str | None, str | None] | None = None


# --- the valid request ------------------------------------------------------------------------------------


def sample(schema: dict[str, Any]) -> Any:
    """A simple value the schema takes."""
    schema = without_null(schema)
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    kind = schema.get("type")
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if kind == "array":
        return [sample(resolve(schema.get("items", {})))] * max(1, schema.get("minItems", 0))
    if kind == "object" or "properties" in schema:
        return {
            name: sample(resolve(value))
            for name, value in schema.get("properties", {}).items()
            if name in schema.get("required", ())
        }
    if schema.get("format") == "uuid":
        return str(uuid.UUID(int=1))
    if schema.get("format") == "date-time":
        return "2026-09-01T08:00:00Z"
    return "valid"


def valid_path_value(operation: Operation, parameter: dict[str, Any]) -> str:
    name = parameter["name"]
    if name in KNOWN:
        return "{" + name + "}"
    if name in PATH_VALUES:
        return PATH_VALUES[name]
    return quote(str(sample(parameter.get("schema", {}))), safe="")


def valid_query(operation: Operation) -> list[tuple[str, str]]:
    if operation.label == "GET /oauth/authorize":
        return [(name, quote(value, safe="{}")) for name, value in AUTHORIZE.items()]
    return [
        (p["name"], quote(str(sample(p.get("schema", {}))), safe=""))
        for p in operation.parameters_in("query")
        if p.get("required")
    ]


def valid_body(operation: Operation) -> Any:
    body = operation.body()
    if body is None:
        return None
    return copy.deepcopy(BODIES.get(operation.label, sample(body[1])))


# --- what to send -----------------------------------------------------------------------------------------


def is_numeric(schema: dict[str, Any]) -> bool:
    return without_null(schema).get("type") in {"integer", "number"}


def wrong_value(schema: dict[str, Any]) -> str | None:
    """Text (for a URL or header) the schema refuses, if it refuses any: another type, or outside its
    enum, format or pattern."""
    schema = without_null(schema)
    if "enum" in schema:
        return "not-one-of-them"
    if schema.get("type") in {"integer", "number"}:
        return "twelve"
    if schema.get("type") == "boolean":
        return "maybe"
    if schema.get("format") in {"uuid", "date-time"}:
        return "yesterday"
    if "pattern" in schema:
        return "%20%7B%7D"  # " {}"
    return None


def parameter_requests(operation: Operation) -> Iterator[Hostile]:
    valid = valid_query(operation)
    for parameter in operation.parameters_in("path"):
        name, schema = parameter["name"], parameter.get("schema", {})
        yield Hostile("nul", f"NUL in path {name}", path={name: "a%00b"})
        yield Hostile("long", f"10 KB path {name}", path={name: TEN_KB})
        if is_numeric(schema):
            yield Hostile("big-number", f"2**64 as path {name}", path={name: str(BEYOND_64_BITS)})
        wrong = wrong_value(schema)
        if wrong is not None:
            yield Hostile("wrong-type", f"path {name}={wrong}", path={name: wrong})
    for parameter in operation.parameters_in("query"):
        name, schema = parameter["name"], parameter.get("schema", {})
        others = [(key, value) for key, value in valid if key != name]
        current = dict(valid).get(name) or quote(str(sample(schema)), safe="")

        def replaced(
            value: str, others: list[tuple[str, str]] = others, name: str = name
        ) -> list[tuple[str, str]]:
            return [*others, (name, value)]

        yield Hostile("nul", f"NUL in query {name}", query=replaced("a%00b"))
        yield Hostile("long", f"10 KB query {name}", query=replaced(TEN_KB))
        if is_numeric(schema):
            yield Hostile("big-number", f"2**64 as query {name}", query=replaced(str(BEYOND_64_BITS)))
            yield Hostile("big-number", f"-2**64 as query {name}", query=replaced(str(-BEYOND_64_BITS)))
        wrong = wrong_value(schema)
        if wrong is not None:
            yield Hostile("wrong-type", f"query {name}={wrong}", query=replaced(wrong))
        yield Hostile("duplicate", f"query {name} twice", query=[*others, (name, current), (name, current)])
    for parameter in operation.parameters_in("header"):
        name, schema = parameter["name"], without_null(parameter.get("schema", {}))
        if "pattern" in schema or "maxLength" in schema:  # a header compared, never stored, may be anything
            yield Hostile("nul", f"NUL in header {name}", headers={name: "a\x00b"})
            yield Hostile("long", f"10 KB header {name}", headers={name: TEN_KB})


def json_leaves(value: Any, pointer: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from json_leaves(item, (*pointer, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from json_leaves(item, (*pointer, index))
    else:
        yield pointer, value


def with_value(document: Any, pointer: tuple[Any, ...], value: Any) -> Any:
    changed_document = copy.deepcopy(document)
    target = changed_document
    for part in pointer[:-1]:
        target = target[part]
    target[pointer[-1]] = value
    return changed_document


def shown(pointer: tuple[Any, ...]) -> str:
    return "#/" + "/".join(str(part) for part in pointer)


def other_type(value: Any) -> Any:
    if isinstance(value, bool):
        return "true"
    if isinstance(value, int | float):
        return "12"
    if isinstance(value, str):
        return 12
    if isinstance(value, list):
        return {"0": value}
    if isinstance(value, dict):
        return [value]
    return {"null": None}


def json_requests(operation: Operation, schema: dict[str, Any]) -> Iterator[Hostile]:
    valid = valid_body(operation)

    def encoded(document: Any) -> bytes:
        return json.dumps(document).encode()  # ensure_ascii: a lone surrogate travels as `\ud800`

    strings = [pointer for pointer, leaf in json_leaves(valid) if isinstance(leaf, str)]
    if isinstance(valid, dict):  # optional text fields the valid request leaves out are hostile too
        strings += [
            (name,)
            for name, property_schema in schema.get("properties", {}).items()
            if name not in valid and without_null(resolve(property_schema)).get("type") == "string"
        ]
    for pointer in strings:
        for kind, what, value in (
            ("nul", "NUL in", "a\x00b"),
            ("surrogate", "lone surrogate in", "a\ud800b"),
            ("long", "10 KB", TEN_KB),
        ):
            yield Hostile(
                kind, f"{what} JSON {shown(pointer)}", body=encoded(with_value(valid, pointer, value))
            )
    for pointer, leaf in json_leaves(valid):
        if isinstance(leaf, int | float) and not isinstance(leaf, bool):
            for number in (BEYOND_64_BITS, -BEYOND_64_BITS):
                body = encoded(with_value(valid, pointer, number))
                yield Hostile("big-number", f"{number} as JSON {shown(pointer)}", body=body)
    if isinstance(valid, dict):
        for name, value in valid.items():
            body = encoded(with_value(valid, (name,), other_type(value)))
            yield Hostile("wrong-type", f"JSON {shown((name,))} of another type", body=body)
    yield Hostile("wrong-type", "a JSON array for the body", body=encoded([valid]))


def form_requests(operation: Operation, schema: dict[str, Any]) -> Iterator[Hostile]:
    valid: dict[str, str] = valid_body(operation) or {}

    def encoded(pairs: list[tuple[str, str]]) -> bytes:
        return "&".join(f"{quote(name, safe='')}={value}" for name, value in pairs).encode()

    pairs = [(name, quote(value, safe="")) for name, value in valid.items()]
    for name in schema.get("properties", {}):
        others = [(key, value) for key, value in pairs if key != name]
        yield Hostile("nul", f"NUL in form {name}", body=encoded([*others, (name, "a%00b")]))
        yield Hostile("surrogate", f"no UTF-8 in form {name}", body=encoded([*others, (name, "a%ED%A0%80b")]))
        yield Hostile("long", f"10 KB form {name}", body=encoded([*others, (name, TEN_KB)]))
        if name in valid:
            yield Hostile(
                "duplicate", f"form {name} twice", body=encoded([*pairs, (name, quote(valid[name], safe=""))])
            )


def credential_requests(operation: Operation) -> Iterator[Hostile]:
    if not operation.security:
        return
    scheme = "Basic" if "clientSecretBasic" in operation.security else "Bearer"
    yield Hostile("credential", f"NUL in {scheme} credential", authorization=f"{scheme} gw_a\x00b")
    yield Hostile("credential", f"10 KB {scheme} credential", authorization=f"{scheme} {TEN_KB}")
    yield Hostile(
        "credential", f"non-ASCII {scheme} credential", authorization=f"{scheme} ".encode() + b"\xed\xa0\x80"
    )
    if "adminSession" in operation.security:
        yield Hostile("credential", "NUL in the session cookie", session=("gw_ss_a\x00b", None))
        yield Hostile("credential", "10 KB session cookie", session=(TEN_KB, None))
        if operation.method != "GET":  # the CSRF header is read on unsafe methods only
            yield Hostile("credential", "NUL in the CSRF header", session=(None, "a\x00b"))
            yield Hostile("credential", "10 KB CSRF header", session=(None, TEN_KB))


def hostile_requests(operation: Operation) -> list[Hostile]:
    found = list(parameter_requests(operation))
    body = operation.body()
    if body is not None:
        media_type, schema = body
        found += json_requests(operation, schema) if media_type != FORM else form_requests(operation, schema)
    found += credential_requests(operation)
    return found


def cases() -> Iterator[Any]:
    for operation in operations():
        requests = hostile_requests(operation)
        for kind in ("nul", "surrogate", "long", "big-number", "wrong-type", "duplicate", "credential"):
            chosen = [request for request in requests if request.kind == kind]
            case_id = f"{operation.label} {kind}"
            if chosen:
                yield pytest.param(operation, chosen, id=case_id)


# --- sending and judging ----------------------------------------------------------------------------------


def known_values(credentials: Credentials, operation: Operation) -> dict[str, str]:
    return {"record_id": "rec-00001", **credentials.resources(operation.path)}


def request_for(operation: Operation, hostile: Hostile, credentials: Credentials) -> httpx.Request:
    known = known_values(credentials, operation)
    path = operation.path
    for parameter in operation.parameters_in("path"):
        name = parameter["name"]
        text = hostile.path.get(name)
        path = path.replace(
            "{" + name + "}", text if text is not None else valid_path_value(operation, parameter)
        )
    query = hostile.query if hostile.query is not None else valid_query(operation)
    url = path.format_map(known) if "{" in path else path
    if query:
        url += "?" + "&".join(f"{quote(name, safe='')}={value}" for name, value in query).format_map(known)
    headers: dict[str, str | bytes] = {**credentials.for_path(operation.path)[0], **hostile.headers}
    if hostile.authorization is not None:
        headers["authorization"] = hostile.authorization
    if hostile.session is not None:
        cookie, csrf = hostile.session
        session_headers, cookies = credentials.for_path(operation.path, admin_session=True)
        del headers["authorization"]  # it would decide alone
        headers.update({name: csrf if csrf is not None else value for name, value in session_headers.items()})
        headers["cookie"] = "; ".join(
            f"{name}={cookie if cookie is not None else value}" for name, value in cookies.items()
        )
    content: bytes | None = None
    body = operation.body()
    if body is not None:
        media_type = body[0]
        if hostile.body is not None:
            content = hostile.body
        elif media_type == FORM:
            content = "&".join(
                f"{k}={quote(v, safe='')}" for k, v in (valid_body(operation) or {}).items()
            ).encode()
        else:
            content = json.dumps(valid_body(operation)).encode()
        headers["content-type"] = media_type
    return httpx.Request(operation.method, TEST_ISSUER + url, headers=headers, content=content)


# What the hostile values look like in an answer that quotes them back (SPEC §6: nothing is echoed).
ECHOES = ("x" * 64, "a\x00b", "a\\u0000b", "\\ud800", "a%00b")


def verdict(operation: Operation, response: httpx.Response) -> str | None:
    """What is wrong with the answer, if anything."""
    status, content_type = response.status_code, response.headers.get("content-type", "")
    answer = response.text + response.headers.get("location", "")
    if any(echo in answer for echo in ECHOES):
        return f"{status}: quotes the hostile value back: {answer[:200]!r}"
    if operation.label == "GET /oauth/authorize":
        if status == 302:
            location = response.headers["location"]
            sent_back = parse_qs(urlsplit(location).query)
            if location.startswith(REDIRECT_URI) and "error" in sent_back:
                return None
            return f"302 to {location[:80]!r}, not the redirect URI with an error"
        if status == 400 and content_type.startswith("text/html"):
            return None
        return f"{status} {content_type}: neither an error redirect nor a 400 page"
    if not 400 <= status < 500:
        return f"{status}, not a 4xx: {response.text[:200]!r}"
    if operation.path.startswith("/oauth/"):
        if not content_type.startswith("application/json") or not isinstance(
            response.json().get("error"), str
        ):
            return f"{status} {content_type}: not RFC 6749 JSON: {response.text[:200]!r}"
        return None
    if not content_type.startswith("application/problem+json"):
        return f"{status} {content_type}: not problem+json: {response.text[:200]!r}"
    problem = response.json()
    if problem.get("status") != status or not all(
        isinstance(problem.get(key), str) for key in ("type", "title", "detail")
    ):
        return f"{status}: an incomplete problem: {problem!r}"
    return None


@pytest.fixture(scope="module")
async def hostile_credentials(fuzz_database: MigratedDatabase, master_key_b64: str) -> Credentials:
    """Credentials of their own: a request that should fail but succeeds changes only what is theirs."""
    async with fuzz_database.sessions() as session:
        return await issue_credentials(
            session,
            Keyring(base64.b64decode(master_key_b64)),
            issuer=TEST_ISSUER,
            email="head@hostile.example.org",
        )


@pytest.fixture(scope="module")
def hostile_app(fuzz_settings: Settings, fuzz_database: MigratedDatabase, master_key_b64: str) -> FastAPI:
    return create_app(
        fuzz_settings,
        database=Database(fuzz_database.engine),
        master_key=base64.b64decode(master_key_b64),
        password_hashing=PasswordHashing(CHEAP_TEST_PARAMETERS),
    )


@pytest.fixture(scope="module")
async def hostile_client(hostile_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=hostile_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=TEST_ISSUER) as client:
        yield client


def takes_nothing(operation: Operation) -> bool:
    """No parameter, no body, no credential: nothing of a client's reaches it."""
    return not operation.parameters and operation.body() is None and not operation.security


async def test_every_operation_served_is_covered(hostile_client: httpx.AsyncClient) -> None:
    served = (await hostile_client.get("/openapi.json")).json()
    assert served == served_schema()
    covered = {values[0].label for values in (case.values for case in cases())}
    assert covered == {operation.label for operation in operations() if not takes_nothing(operation)}


@pytest.mark.parametrize(
    "operation", [pytest.param(op, id=op.label) for op in operations() if takes_nothing(op)]
)
async def test_an_operation_that_takes_nothing_ignores_what_it_is_sent(
    operation: Operation, hostile_client: httpx.AsyncClient, fuzz_database: MigratedDatabase
) -> None:
    await hostile_client.request(operation.method, operation.path)  # what it makes on first use (a key)
    before = await row_counts(fuzz_database.engine)
    response = await hostile_client.request(
        operation.method, f"{operation.path}?x=a%00b&x={TEN_KB}&%ED%A0%80=1", headers={"x-extra": "a\x00b"}
    )
    assert response.status_code < 500, response.text
    assert not changed(before, await row_counts(fuzz_database.engine))


def names_nothing_known(operation: Operation) -> bool:
    """Whether the valid request names a resource the credentials' school or app does not have (a sync
    id, a record the school did not send): then it is a 404, after every other check."""
    names = {parameter["name"] for parameter in operation.parameters_in("path")}
    unknown = names - set(KNOWN) - set(PATH_VALUES)
    return bool(unknown) or ("record_id" in names and operation.path not in RECORDS)


@pytest.mark.parametrize(
    "operation", [pytest.param(op, id=op.label) for op in operations() if not takes_nothing(op)]
)
async def test_the_valid_request_each_hostile_one_changes_is_accepted(
    operation: Operation,
    hostile_client: httpx.AsyncClient,
    hostile_credentials: Credentials,
    fuzz_database: MigratedDatabase,
    master_key_b64: str,
) -> None:
    """So the hostile values reach the handler. A request that changes something is sent with credentials
    made for it alone."""
    credentials = hostile_credentials
    if operation.method != "GET":
        async with fuzz_database.sessions() as session:
            credentials = await issue_credentials(
                session,
                Keyring(base64.b64decode(master_key_b64)),
                issuer=TEST_ISSUER,
                email=f"valid.{uuid.uuid4().hex[:12]}@hostile.example.org",
            )
    response = await hostile_client.send(request_for(operation, Hostile("valid", "valid"), credentials))
    expected = 404 if names_nothing_known(operation) else range(200, 400)
    assert response.status_code in ([expected] if isinstance(expected, int) else expected), response.text


@pytest.mark.parametrize(("operation", "requests"), list(cases()))
async def test_hostile_input_is_refused_and_writes_nothing(
    operation: Operation,
    requests: list[Hostile],
    hostile_client: httpx.AsyncClient,
    hostile_credentials: Credentials,
    fuzz_database: MigratedDatabase,
) -> None:
    wrong: list[str] = []
    for hostile in requests:
        before = await row_counts(fuzz_database.engine)
        response = await hostile_client.send(request_for(operation, hostile, hostile_credentials))
        written = changed(before, await row_counts(fuzz_database.engine))
        problem = verdict(operation, response)
        if problem is not None:
            wrong.append(f"{hostile.what}: {problem}")
        if written:
            wrong.append(f"{hostile.what}: wrote {written}")
    assert not wrong, "\n".join(wrong)
