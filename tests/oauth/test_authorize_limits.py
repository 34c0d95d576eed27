"""`GET /oauth/authorize` is throttled per client address and per app (SPEC §5); a throttled request
stores nothing, and other addresses and apps are unaffected."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from gateway.app import create_app
from gateway.auth.passwords import CHEAP_TEST_PARAMETERS, PasswordHashing
from gateway.consent.models import AuthorizationRequest
from gateway.db.session import Database
from gateway.oauth.authorize_limits import address_key
from gateway.settings import Settings
from tests.support.apps import REDIRECT_URI
from tests.support.consent_flow import Party, authorize_url, make_party, query_of
from tests.support.http import TEST_ISSUER

Browsers = Callable[[FastAPI, str], httpx.AsyncClient]


async def kept(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(AuthorizationRequest)) or 0)


def limited_app(
    settings: Settings, test_database: Database, master_key_b64: str, *, address: str, client: str
) -> FastAPI:
    limited = settings.model_copy(
        update={"authorize_address_rate_limit": address, "authorize_client_rate_limit": client}
    )
    return create_app(
        limited,
        database=test_database,
        master_key=base64.b64decode(master_key_b64),
        password_hashing=PasswordHashing(CHEAP_TEST_PARAMETERS),
    )


@pytest.fixture
async def browsers(
    request: pytest.FixtureRequest,
) -> AsyncIterator[Callable[[FastAPI, str], httpx.AsyncClient]]:
    """Browsers on one app, each from its own client address."""
    opened: list[httpx.AsyncClient] = []

    def browser(app: FastAPI, address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 50000))
        opened.append(httpx.AsyncClient(transport=transport, base_url=TEST_ISSUER))
        return opened[-1]

    yield browser
    for client in opened:
        await client.aclose()


def to_consent(response: httpx.Response) -> None:
    assert response.status_code == 302, response.text[:300]
    assert response.headers["location"].startswith("/consent/")


async def test_an_address_over_its_limit_gets_a_page_and_stores_nothing(
    settings: Settings,
    test_database: Database,
    master_key_b64: str,
    party: Party,
    session: AsyncSession,
    browsers: Browsers,
) -> None:
    app = limited_app(settings, test_database, master_key_b64, address="3/minute", client="100/minute")
    crowded, elsewhere = browsers(app, "198.51.100.7"), browsers(app, "203.0.113.9")

    to_consent(await crowded.get(authorize_url(party)))
    unknown = await crowded.get(authorize_url(party, client_id="gw_app_unknown"))  # bad requests count too
    assert unknown.status_code == 400
    to_consent(await crowded.get(authorize_url(party)))
    assert await kept(session) == 2

    refused = await crowded.get(authorize_url(party))
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("text/html")
    assert int(refused.headers["retry-after"]) >= 1
    assert "location" not in refused.headers
    assert "Too many requests" in refused.text
    assert (await crowded.get(authorize_url(party, client_id="gw_app_unknown"))).status_code == 429
    assert await kept(session) == 2

    to_consent(await elsewhere.get(authorize_url(party)))
    assert await kept(session) == 3


async def test_an_app_over_its_limit_goes_back_with_temporarily_unavailable(
    settings: Settings,
    test_database: Database,
    master_key_b64: str,
    party: Party,
    session: AsyncSession,
    browsers: Browsers,
) -> None:
    other = await make_party(session, party.keyring, "office@other.example.org")
    app = limited_app(settings, test_database, master_key_b64, address="100/minute", client="2/minute")
    first, second = browsers(app, "198.51.100.7"), browsers(app, "2001:db8:1::7")

    for _ in range(3):  # refused requests store nothing and do not count against the app
        bad = await first.get(authorize_url(party, scope="unknown.scope"))
        assert query_of(bad.headers["location"])["error"] == "invalid_scope"
    to_consent(await first.get(authorize_url(party)))
    to_consent(await second.get(authorize_url(party)))
    assert await kept(session) == 2

    for browser in (first, second):  # the limit is the app's, from any address
        refused = await browser.get(authorize_url(party, state="s1"))
        assert refused.status_code == 302
        location = refused.headers["location"]
        assert location.startswith(REDIRECT_URI + "?")
        query = query_of(location)
        assert query["error"] == "temporarily_unavailable"
        assert query["state"] == "s1"
        assert query["iss"] == TEST_ISSUER
        assert "Try again in" in query["error_description"]
    assert await kept(session) == 2

    to_consent(await first.get(authorize_url(other)))
    assert await kept(session) == 3


def _request_from(host: str) -> Request:
    return Request({"type": "http", "client": (host, 1234), "headers": [], "method": "GET", "path": "/"})


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("192.0.2.10", "192.0.2.10"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::2", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::ffff:192.0.2.10", "192.0.2.10"),
        ("testclient", "testclient"),
    ],
)
def test_an_ipv6_address_counts_by_its_64(host: str, key: str) -> None:
    assert address_key(_request_from(host)) == key
