"""Bytes a database refuses never reach it (SPEC §5): 400 in the endpoint's format, nothing written.

`db.unstorable` checks every bound parameter before any statement is sent, on both databases; these are
the reproductions that used to answer 500 on PostgreSQL (with the bound parameters in the ERROR log),
and the pure check itself.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.models import App
from gateway.consent.models import AuthorizationRequest
from gateway.db.engine import create_engine
from gateway.db.unstorable import INT64_MAX, INT64_MIN, UnstorableValue, check_parameters
from gateway.keys.keyring import Keyring
from gateway.settings import Settings
from tests.support.accounts import Account
from tests.support.consent_flow import Party, authorize_url, make_party, query_of
from tests.support.developers import make_developer
from tests.support.http import bearer
from tests.support.school_keys import issue_key

PROBLEM = "application/problem+json"
# As a client can put them in a URL: NUL, and percent-encoded bytes that are no UTF-8 (a CESU-8 surrogate,
# a lone continuation byte), which the server decodes to replacement characters.
HOSTILE = ["%00", "a%00b", "%ED%A0%80", "x%FF"]


@pytest.mark.parametrize(
    "parameters",
    [
        {"v": "nul\x00"},
        {"v": "\ud83d"},  # half of an emoji's surrogate pair
        {"v": INT64_MAX + 1},
        {"v": INT64_MIN - 1},
        {"v": ["fine", "\x00"]},
        {"v": ["fine", "\udc00", "also fine"]},  # a list of text is searched joined
        {"v": ["text", INT64_MAX + 1]},  # a mixed list is checked item by item
        {"v": ("a", ["b", "\x00"])},
        [{"v": "fine"}, {"v": "bad\x00"}],  # executemany
        ("positional\x00",),
    ],
)
def test_unstorable_parameters_are_refused(parameters: object) -> None:
    with pytest.raises(UnstorableValue):
        check_parameters(parameters)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "parameters",
    [
        None,
        {},
        {"v": "école 😀 \t\n"},
        {"v": INT64_MAX, "w": INT64_MIN, "b": True},
        {"v": b"\x00bytes"},
        {"v": ["stu-1", "stu-2", "😀"], "w": ["x", 1, None]},
    ],
)
def test_storable_parameters_pass(parameters: object) -> None:
    check_parameters(parameters)  # type: ignore[arg-type]


async def test_engines_hide_bound_parameters_and_refuse_before_sending(settings: Settings) -> None:
    engine = create_engine(settings)
    try:
        assert engine.sync_engine.hide_parameters
        async with engine.connect() as connection:
            with pytest.raises(UnstorableValue):
                await connection.execute(text("SELECT :v"), {"v": "\x00"})
            assert (
                await connection.execute(text("SELECT :v"), {"v": "still usable"})
            ).scalar() == "still usable"
    finally:
        await engine.dispose()


@pytest.fixture
async def party(session: AsyncSession, keyring: Keyring) -> Party:
    return await make_party(session, keyring, "head@unstorable.example.org")


async def _stored_requests(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(AuthorizationRequest)) or 0)


async def test_authorize_with_a_nul_client_id_is_an_error_page(
    client: httpx.AsyncClient, session: AsyncSession, party: Party, caplog: pytest.LogCaptureFixture
) -> None:
    before = await _stored_requests(session)
    with caplog.at_level(logging.INFO):
        response = await client.get(authorize_url(party, client_id="\x00"))
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "No app is registered" in response.text
    assert await _stored_requests(session) == before
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


@pytest.mark.parametrize("value", HOSTILE)
async def test_authorize_with_an_unstorable_state_goes_back_without_echoing_it(
    client: httpx.AsyncClient, session: AsyncSession, party: Party, value: str
) -> None:
    before = await _stored_requests(session)
    response = await client.get(
        authorize_url(party, state="marker").replace("state=marker", "state=" + value)
    )
    assert response.status_code == 302
    query = query_of(response.headers["location"])
    if "%00" in value:
        assert query["error"] == "invalid_request"
        assert "state" in query["error_description"]
        assert "state" not in query
        assert await _stored_requests(session) == before
    else:  # decoded to replacement characters: a state like any other, kept and returned as decoded
        assert response.headers["location"].startswith("/consent/")


async def test_a_consent_id_with_a_nul_is_the_ended_request_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/consent/" + quote("\x00" + "a" * 42), headers={"accept": "text/html"})
    assert response.status_code == 400
    assert "This request has ended" in response.text


@pytest.mark.parametrize("value", HOSTILE)
async def test_access_log_filters_with_unstorable_text_are_refused_or_harmless(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring, account: Account, value: str
) -> None:
    key = await issue_key(session, keyring, account)
    response = await client.get(f"/manage/v1/access-log?resource={value}", headers=bearer(key))
    if "%00" in value:
        assert response.status_code == 400, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["type"] == "urn:gateway:problem:unstorable-value"
    else:  # replacement characters: an unknown resource, so nothing is listed
        assert response.status_code == 200, response.text
        assert response.json()["entries"] == []


async def test_a_developer_path_with_a_nul_is_a_400_problem(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    developer = await make_developer(session, keyring, "Nul Apps", "nul@apps.example.org")
    response = await client.get("/developer/v1/apps/" + quote("\x00"), headers=bearer(developer.key))
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith(PROBLEM)


@pytest.mark.parametrize("value", ["Planner\\u0000", "Planner\\ud800"])
async def test_json_bodies_with_unstorable_text_write_nothing(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring, value: str
) -> None:
    developer = await make_developer(session, keyring, "Json Apps", "json@apps.example.org")
    body = (
        '{"name": "' + value + '", "description": "Sets homework.", '
        '"redirect_uris": ["https://planner.example.com/callback"], "required_scopes": "school", '
        '"optional_scopes": "", "token_endpoint_auth_method": "client_secret_basic", '
        '"privacy_policy_url": "https://planner.example.com/privacy", '
        '"support_url": "https://planner.example.com/support", "webhook_url": null}'
    )
    before = await session.scalar(select(func.count()).select_from(App))
    response = await client.post(
        "/developer/v1/apps",
        content=body.encode(),
        headers={**bearer(developer.key), "content-type": "application/json"},
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert await session.scalar(select(func.count()).select_from(App)) == before


async def test_token_endpoint_answers_rfc6749_json_for_unstorable_form_values(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/oauth/token",
        content="grant_type=client_credentials&client_id=%00",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    # The form reader refuses control characters in any value before anything is looked up.
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
