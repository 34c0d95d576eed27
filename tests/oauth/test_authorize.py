"""`GET /oauth/authorize`: what is shown on a page, what is redirected, and what is kept (RFC 6749 §4.1,
RFC 7636, RFC 9207, RFC 9700 §4.1)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.consent.models import AuthorizationRequest
from tests.support.apps import REDIRECT_URI
from tests.support.consent_flow import Party, authorize_url, make_party, query_of
from tests.support.http import TEST_ISSUER
from tests.support.pkce import Pkce


async def kept(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(AuthorizationRequest)) or 0)


def page_error(response: httpx.Response, words: str) -> None:
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert words in response.text


def redirected_error(response: httpx.Response, error: str, *, state: str | None = "s1") -> dict[str, str]:
    assert response.status_code == 302, response.text[:300]
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    query = query_of(location)
    assert query["error"] == error
    assert query["iss"] == TEST_ISSUER
    assert query.get("state") == state
    assert query["error_description"]
    return query


async def test_a_good_request_is_kept_and_goes_to_consent(
    browser: httpx.AsyncClient, party: Party, session: AsyncSession
) -> None:
    pkce = Pkce()
    response = await browser.get(authorize_url(party, pkce, state="abc", school_id=str(party.school.id)))
    assert response.status_code == 302
    request_id = response.headers["location"].removeprefix("/consent/")
    pending = await session.get(AuthorizationRequest, request_id)
    assert pending is not None
    assert (pending.state, pending.code_challenge, pending.school_id) == (
        "abc",
        pkce.challenge,
        party.school.id,
    )
    assert pending.scopes == "school groups students.basic"
    assert pending.redirect_uri == REDIRECT_URI


async def test_scope_left_out_asks_for_everything_registered(
    browser: httpx.AsyncClient, party: Party, session: AsyncSession
) -> None:
    response = await browser.get(authorize_url(party, scope=None))
    pending = await session.get(AuthorizationRequest, response.headers["location"].removeprefix("/consent/"))
    assert pending is not None
    assert set(pending.scopes.split()) == {
        "school", "groups", "students.basic", "students.demographics", "attendance.summaries", "students.sen",
    }  # fmt: skip


async def test_required_scopes_are_always_asked_for(
    browser: httpx.AsyncClient, party: Party, session: AsyncSession
) -> None:
    response = await browser.get(authorize_url(party, scope="students.demographics"))
    pending = await session.get(AuthorizationRequest, response.headers["location"].removeprefix("/consent/"))
    assert pending is not None
    assert pending.scopes == "school groups students.basic students.demographics"


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"client_id": None}, "client_id is missing"),
        ({"client_id": "gw_app_unknown000000"}, "No app is registered"),
        ({"client_id": "x" * 500}, "No app is registered"),
        ({"redirect_uri": None}, "redirect_uri is missing"),
        ({"redirect_uri": "https://evil.example/callback"}, "not one the app registered"),
        ({"redirect_uri": REDIRECT_URI + "/extra"}, "not one the app registered"),
        ({"redirect_uri": REDIRECT_URI + "?next=https://evil.example"}, "not one the app registered"),
        ({"redirect_uri": REDIRECT_URI + "#fragment"}, "not one the app registered"),
        ({"redirect_uri": REDIRECT_URI.replace("planner", "PLANNER")}, "not one the app registered"),
        ({"redirect_uri": REDIRECT_URI.replace(".com", ".com:8443")}, "not one the app registered"),
        ({"redirect_uri": REDIRECT_URI.replace("https", "http")}, "not one the app registered"),
        ({"redirect_uri": REDIRECT_URI + "/"}, "not one the app registered"),
        ({"redirect_uri": "http://127.0.0.1:8766/callback"}, "not one the app registered"),
        ({"redirect_uri": "https://planner.example.com.evil.example/oauth/callback"}, "not one the app"),
        ({"redirect_uri": "//evil.example/oauth/callback"}, "not one the app registered"),
    ],
)
async def test_client_and_redirect_uri_errors_are_shown_not_redirected(
    browser: httpx.AsyncClient,
    party: Party,
    session: AsyncSession,
    changes: dict[str, str | None],
    words: str,
) -> None:
    page_error(await browser.get(authorize_url(party, **changes)), words)
    assert await kept(session) == 0


async def test_another_apps_redirect_uri_is_refused(
    browser: httpx.AsyncClient, party: Party, session: AsyncSession
) -> None:
    other = await make_party(session, party.keyring, "office@other.example.org")
    other.app.redirect_uris = ["https://other-app.example.com/cb"]
    await session.commit()
    page_error(
        await browser.get(authorize_url(party, redirect_uri="https://other-app.example.com/cb")),
        "not one the app registered",
    )


async def test_client_id_or_redirect_uri_twice_is_shown_on_the_page(
    browser: httpx.AsyncClient, party: Party
) -> None:
    url = authorize_url(party)
    page_error(await browser.get(url + f"&client_id={party.app.client_id}"), "client_id more than once")
    page_error(await browser.get(url + "&redirect_uri=https://evil.example/"), "redirect_uri more than once")


async def test_an_oversized_query_is_shown_on_the_page(browser: httpx.AsyncClient, party: Party) -> None:
    page_error(await browser.get(authorize_url(party, state="s" * 20_000)), "too long")


@pytest.mark.parametrize("length", [1025, 2001, 9000])
async def test_a_state_over_its_cap_goes_back_without_it(
    browser: httpx.AsyncClient, session: AsyncSession, party: Party, length: int
) -> None:
    """Never echoed into the app's redirect (kilobytes in a Location header), and nothing is stored."""
    before = await session.scalar(select(func.count()).select_from(AuthorizationRequest))
    response = await browser.get(authorize_url(party, state="s" * length))
    assert response.status_code == 302
    assert len(response.headers["location"]) < 600
    query = query_of(response.headers["location"])
    assert query["error"] == "invalid_request"
    assert "state" in query["error_description"]
    assert "state" not in query
    assert await session.scalar(select(func.count()).select_from(AuthorizationRequest)) == before


@pytest.mark.parametrize(
    ("changes", "error", "words"),
    [
        ({"response_type": None}, "invalid_request", "response_type"),
        ({"response_type": "token"}, "unsupported_response_type", "code"),
        ({"response_type": "code id_token"}, "unsupported_response_type", "code"),
        ({"code_challenge": None}, "invalid_request", "PKCE is required"),
        ({"code_challenge_method": None}, "invalid_request", "S256"),
        ({"code_challenge_method": "plain"}, "invalid_request", "S256"),
        ({"code_challenge_method": "s256"}, "invalid_request", "S256"),
        ({"code_challenge": "too-short"}, "invalid_request", "43"),
        ({"code_challenge": "!" * 43}, "invalid_request", "43"),
        ({"scope": "students.medical"}, "invalid_scope", "not registered"),
        ({"scope": "students.basic students.basic"}, "invalid_scope", "students.basic"),
        ({"scope": "unknown.scope"}, "invalid_scope", "unknown.scope"),
        ({"scope": "school\tgroups"}, "invalid_scope", ""),
        ({"school_id": "not-a-uuid"}, "invalid_request", "school_id"),
        ({"school_id": str(uuid.uuid4())}, "invalid_request", "school_id"),
    ],
)
async def test_other_errors_go_back_to_the_app_with_state_and_iss(
    browser: httpx.AsyncClient,
    party: Party,
    session: AsyncSession,
    changes: dict[str, str | None],
    error: str,
    words: str,
) -> None:
    query = redirected_error(await browser.get(authorize_url(party, state="s1", **changes)), error)
    assert words in query["error_description"]
    assert await kept(session) == 0


@pytest.mark.parametrize(
    "name", ["response_type", "scope", "state", "code_challenge", "code_challenge_method"]
)
async def test_a_parameter_given_twice_is_refused(
    browser: httpx.AsyncClient, party: Party, name: str
) -> None:
    url = authorize_url(party, state="s1") + f"&{name}=again"
    query = redirected_error(
        await browser.get(url), "invalid_request", state=None if name == "state" else "s1"
    )
    assert name in query["error_description"]


async def test_unknown_parameters_are_ignored_and_never_echoed(
    browser: httpx.AsyncClient, party: Party, session: AsyncSession
) -> None:
    response = await browser.get(
        authorize_url(party) + "&nonce=n&prompt=none&redirect_to=https://evil.example"
    )
    assert response.status_code == 302
    assert response.headers["location"].startswith("/consent/")
    assert "evil" not in response.headers["location"]
    assert await kept(session) == 1


async def test_state_is_returned_exactly_even_when_hostile(browser: httpx.AsyncClient, party: Party) -> None:
    hostile = "<script>alert(1)</script>&iss=https://evil.example#x"
    query = redirected_error(await browser.get(authorize_url(party, state=hostile, response_type="token")),
                             "unsupported_response_type", state=hostile)  # fmt: skip
    assert query["iss"] == TEST_ISSUER


async def test_a_too_long_state_is_refused(browser: httpx.AsyncClient, party: Party) -> None:
    response = await browser.get(authorize_url(party, state="s" * 1025))
    assert response.status_code == 302
    assert query_of(response.headers["location"])["error"] == "invalid_request"


async def test_a_redirect_uri_with_its_own_query_keeps_it(
    browser: httpx.AsyncClient, party: Party, session: AsyncSession
) -> None:
    party.app.redirect_uris = [*party.app.redirect_uris, "https://planner.example.com/cb?tenant=7"]
    await session.commit()
    response = await browser.get(
        authorize_url(party, redirect_uri="https://planner.example.com/cb?tenant=7", response_type="x")
    )
    assert response.headers["location"].startswith("https://planner.example.com/cb?tenant=7&error=")


async def test_no_cors_and_no_framing(browser: httpx.AsyncClient, party: Party) -> None:
    response = await browser.get(authorize_url(party), headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    preflight = await browser.options(
        "/oauth/authorize", headers={"origin": "https://evil.example", "access-control-request-method": "GET"}
    )
    assert "access-control-allow-origin" not in preflight.headers


async def test_post_is_not_accepted(browser: httpx.AsyncClient, party: Party) -> None:
    response = await browser.post(authorize_url(party))
    assert response.status_code == 405
