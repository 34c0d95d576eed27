"""Schemathesis over every operation of the OpenAPI document the app serves, on this run's database.

Each operation is called over ASGI with the credential it takes (SPEC §7): a school API key and, apart, an
admin session with its CSRF token on `/manage/v1`, a developer key on `/developer/v1`, a connector key on
`/connector/v1`, client_secret_basic on `/oauth/token`, `/revoke` and `/introspect`, a school access token
on the data API and `/api/v1/app/disconnect`, an app-level token on `/api/v1/app/schools`; the rest are
anonymous. Every check schemathesis has runs (`all`), from a fixed seed with a bounded number of examples,
so a run is reproducible and stays inside the test command's time budget.

Half of the cases of a read (GET) aimed at one resource name a real one (the school's grant, the app, a
pupil), so those answers are validated against their schemas too. Operations that end the credential they
are called with or the resource they name (rotating the developer key, disconnecting, revoking, deleting)
run last, each with credentials and resources of its own, and always aimed at them: a developer key
rotation carries on with the key it returned.
"""

from __future__ import annotations

import base64
import copy
import uuid
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi import APIRouter, FastAPI
from schemathesis.errors import FailureGroup

from gateway.app import create_app
from gateway.auth.passwords import CHEAP_TEST_PARAMETERS, PasswordHashing
from gateway.db.engine import create_engine
from gateway.db.session import Database
from gateway.keys.keyring import Keyring
from gateway.settings import Settings
from tests.support.credentials import Credentials, issue_credentials
from tests.support.databases import MigratedDatabase
from tests.support.http import TEST_ISSUER
from tests.support.openapi import Operation, operations, served_schema
from tests.support.tally import TALLY

SEED = 20261126
EXAMPLES = 25  # fuzzed cases per operation, besides the examples and coverage phases' own


ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429"]  # schemathesis' own list, 5xx left out


def positive_data_also_refused_with(
    statuses: list[str], *, path: str | None = None, path_regex: str | None = None, method: str | None = None
) -> dict[str, Any]:
    """An operation whose schema-valid requests can be refused for reasons no JSON Schema can state."""
    operation: dict[str, Any] = {
        "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED + statuses}}
    }
    if path is not None:
        operation["include-path"] = path
    if path_regex is not None:
        operation["include-path-regex"] = path_regex
    if method is not None:
        operation["include-method"] = method
    return operation


def takes_a_cursor(operation: Operation) -> bool:
    return any(parameter["name"] == "cursor" for parameter in operation.parameters_in("query"))


CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "base-url": TEST_ISSUER,
        "generation": {"max-examples": EXAMPLES, "deterministic": True},
        "checks": {"enabled": True},
        "operations": [
            # RFC 6749: a well-formed request naming an unknown client, redirect URI, code or token is 400
            # (§4.1.2.1, §5.2).
            positive_data_also_refused_with(["400"], path_regex="^/oauth/"),
            # Cursors are sealed (http.cursors): one made up is refused, 400 (422 on the grants API).
            *(
                positive_data_also_refused_with(["400", "422"], path=operation.path, method=operation.method)
                for operation in operations()
                if takes_a_cursor(operation)
            ),
            # Redirect URIs, URLs and the scope catalogue's rules (apps.validation), MIS records' identifiers
            # and code sets (mis.validation), what narrowing may remove (consent.rules): checked beyond the
            # JSON Schema, each bad field named.
            positive_data_also_refused_with(["422"], path_regex="^/developer/v1/apps(/[^/]+)?$"),
            positive_data_also_refused_with(["422"], path_regex="^/connector/v1/"),
            positive_data_also_refused_with(["422"], path_regex="^/manage/v1/grants/[^/]+/narrow$"),
        ],
    }
)


class FuzzApp:
    """The ASGI app cases are sent to: the app on the fuzz database, once the `fuzz_app` fixture made it.

    Schemathesis sends every case and every check's own requests to its schema's app; the schema is
    loaded at collection, before any fixture runs.
    """

    app: FastAPI | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert self.app is not None, "the fuzz_app fixture makes the app"
        await self.app(scope, receive, send)


FUZZ_APP = FuzzApp()
schema = schemathesis.openapi.from_dict(copy.deepcopy(served_schema()), config=CONFIG)
schema.app = FUZZ_APP

# They end the credential they are called with, or change or end the resource they are aimed at: the
# ones named, and every DELETE, PATCH and PUT (so one added later is among them too).
DESTRUCTIVE = frozenset(
    {
        "POST /developer/v1/keys/rotate",
        "POST /developer/v1/apps/{client_id}/secret",
        "POST /manage/v1/grants/{grant_id}/narrow",
        "POST /manage/v1/grants/{grant_id}/revoke",
        "POST /api/v1/app/disconnect",
    }
    | {operation.label for operation in operations() if operation.method in {"DELETE", "PATCH", "PUT"}}
)


def label(operation: Any) -> str:
    return f"{operation.method.upper()} {operation.path}"


# Operations are picked by `exclude` (with `[[operations]]` in the config, `include` would add to them).
def is_destructive(ctx: Any) -> bool:
    return label(ctx.operation) in DESTRUCTIVE


def is_not_destructive(ctx: Any) -> bool:
    return not is_destructive(ctx)


def is_not_a_safe_manage_operation(ctx: Any) -> bool:
    return is_destructive(ctx) or not ctx.operation.path.startswith("/manage/")


# Where each kind of credential goes, for `OperationCredential.set`.
PLACEHOLDER_CREDENTIALS = Credentials(
    school_id=uuid.UUID(int=0),
    grant_id=uuid.UUID(int=0),
    client_id="gw_app_x",
    client_secret="gw_cs_x",
    school_key="gw_sk_x_x",
    admin_cookie="gw_ss_x",
    csrf_token="x",
    developer_key="gw_dk_x_x",
    connector_key="gw_ck_x_x",
    school_token="x",
    refresh_token="gw_rt_x",
    app_token="x",
    message_id="msg_0",
)


@dataclass
class Keychain:
    """The credentials cases are sent with, filled by the `keychain` fixture before any case is made.

    Destructive operations have their own, by operation; a developer key rotation replaces its entry.
    """

    main: Credentials | None = None
    own: dict[str, Credentials] | None = None

    def for_operation(self, operation: Any) -> Credentials:
        assert self.main is not None, "the keychain fixture fills the keychain"
        assert self.own is not None
        return self.own.get(label(operation), self.main)


KEYCHAIN = Keychain()


SLOT = "credential:"


class OperationCredential:
    """Every operation's own kind of credential; a school API key on `/manage/v1`.

    Schemathesis applies auth while it builds cases, some of them at collection, before any fixture has
    made a credential: it marks where each goes (`SLOT`, so its checks know what is auth and can leave it
    out), and `fill_credentials` puts the real values in before the case is sent.
    """

    admin_session = False

    def get(self, case: schemathesis.Case, context: Any) -> bool:
        return self.admin_session

    def set(self, case: schemathesis.Case, data: bool, context: Any) -> None:
        path = case.operation.path
        headers, cookies = PLACEHOLDER_CREDENTIALS.for_path(path, admin_session=data)
        case.headers.update({name: SLOT + name for name in headers})
        case.cookies.update({name: SLOT + name for name in cookies})


class AdminSession(OperationCredential):
    """`/manage/v1` as a signed-in admin: the session cookie and, for unsafe methods, the CSRF header."""

    admin_session = True


def fill_credentials(case: schemathesis.Case) -> None:
    credentials = KEYCHAIN.for_operation(case.operation)
    real: dict[str, str] = {}
    for admin_session in (False, True):
        headers, cookies = credentials.for_path(case.operation.path, admin_session=admin_session)
        real.update(headers)
        real.update(cookies)
    for container in (case.headers, case.cookies):
        for name, value in list(container.items()):
            # Only the marks `set` made: schemathesis may send the mark's text as a value of its own.
            if isinstance(value, str) and value.removeprefix(SLOT) in real and value.startswith(SLOT):
                container[name] = real[value.removeprefix(SLOT)]


def read_known_resources(case: schemathesis.Case) -> None:
    """Half of the reads aimed at one resource name a real one (chosen from the case, so reproducibly)."""
    if case.method.upper() != "GET" or not case.path_parameters:
        return
    if zlib.crc32(repr(sorted(case.path_parameters.items())).encode()) % 2:
        return
    known = KEYCHAIN.for_operation(case.operation).resources(case.operation.path)
    for name in case.path_parameters:
        if name in known:
            case.path_parameters[name] = known[name]


def aim_at_own_resources(case: schemathesis.Case) -> None:
    """A destructive operation always names the resources of its own credentials."""
    known = KEYCHAIN.for_operation(case.operation).resources(case.operation.path)
    for name in case.path_parameters or {}:
        if name in known:
            case.path_parameters[name] = known[name]


def call_and_validate(case: schemathesis.Case) -> None:
    """Send the case and run every check. A case whose path parameters were changed above is judged as
    what it now is (`case.meta` revalidates a changed case: a negative path parameter replaced by a real
    resource makes a positive case)."""
    fill_credentials(case)
    assert case.meta is not None
    TALLY.sent(label(case.operation))
    response = case.call()
    if label(case.operation) == "POST /developer/v1/keys/rotate" and response.status_code == 201:
        # The returned key is the one to call with from now on (the old one is revoked).
        assert KEYCHAIN.own is not None
        own = KEYCHAIN.own[label(case.operation)]
        KEYCHAIN.own[label(case.operation)] = own.with_developer_key(response.json()["key"])
    try:
        case.validate_response(response)
    except FailureGroup as failures:
        for failure in failures.exceptions:
            TALLY.failed(f"{failure.code} {failure.kind_title}")
        raise


@pytest.fixture(scope="session")
def fuzz_app(fuzz_settings: Settings, master_key_b64: str) -> FuzzApp:
    """The app on the fuzz database, without the background work of a served app (mail).

    Schemathesis runs the app's lifespan around each test on an event loop of its own, where the
    database's connections are made: the lifespan closes them when it ends.
    """
    database = Database(create_engine(fuzz_settings))

    @asynccontextmanager
    async def close_connections(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await database.dispose()

    app = create_app(
        fuzz_settings,
        database=database,
        master_key=base64.b64decode(master_key_b64),
        password_hashing=PasswordHashing(CHEAP_TEST_PARAMETERS),
    )
    app.include_router(APIRouter(lifespan=close_connections))
    FUZZ_APP.app = app
    return FUZZ_APP


@pytest.fixture(scope="module")
async def own_credentials(fuzz_database: MigratedDatabase, master_key_b64: str) -> dict[str, Credentials]:
    """A school, app, grant and every credential for each destructive operation."""
    keyring = Keyring(base64.b64decode(master_key_b64))
    own = {}
    async with fuzz_database.sessions() as session:
        for number, name in enumerate(sorted(DESTRUCTIVE)):
            own[name] = await issue_credentials(
                session, keyring, issuer=TEST_ISSUER, email=f"head{number}@destructive.example.org"
            )
    return own


@pytest.fixture(scope="module")
def keychain(fuzz_credentials: Credentials, own_credentials: dict[str, Credentials]) -> Keychain:
    KEYCHAIN.main = fuzz_credentials
    KEYCHAIN.own = {name: own_credentials[name] for name in DESTRUCTIVE}
    return KEYCHAIN


@schema.exclude(is_destructive).parametrize()
@schema.auth(OperationCredential, refresh_interval=None)
def test_operation(case: schemathesis.Case, fuzz_app: FuzzApp, keychain: Keychain) -> None:
    read_known_resources(case)
    call_and_validate(case)


@schema.exclude(is_not_a_safe_manage_operation).parametrize()
@schema.auth(AdminSession, refresh_interval=None)
def test_manage_operation_as_a_signed_in_admin(
    case: schemathesis.Case, fuzz_app: FuzzApp, keychain: Keychain
) -> None:
    read_known_resources(case)
    call_and_validate(case)


@schema.exclude(is_not_destructive).parametrize()
@schema.auth(OperationCredential, refresh_interval=None)
def test_destructive_operation(case: schemathesis.Case, fuzz_app: FuzzApp, keychain: Keychain) -> None:
    aim_at_own_resources(case)
    call_and_validate(case)
