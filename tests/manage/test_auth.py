"""Who may call `/manage/v1`: a live school API key, or a signed-in admin session with CSRF on writes."""

from __future__ import annotations

import base64

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.accounts.service import disable_admin
from gateway.accounts.sessions import Stage
from gateway.connector import keys as connector_keys
from gateway.developers import service as developers
from gateway.keys.keyring import Keyring
from gateway.manage.models import SchoolApiKey
from tests.support.accounts import Account, SignedIn, session_cookie, set_session_cookie
from tests.support.audit import audit_trail
from tests.support.http import bearer
from tests.support.school_keys import URL, prefix_of

CHALLENGE = 'Bearer realm="manage"'


def problem_without_request_id(response: httpx.Response) -> dict[str, object]:
    body = dict(response.json())
    body.pop("request_id", None)
    return body


def assert_401(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == CHALLENGE
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:gateway:problem:unauthorized"


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
async def test_no_credentials_is_401(client: httpx.AsyncClient, method: str) -> None:
    path = f"{URL}/ABCDEFGHJKLM" if method == "DELETE" else URL
    response = await client.request(method, path, json={"name": "x"} if method == "POST" else None)
    assert_401(response)


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer gw_sk_short",
        "Bearer gw_ck_ABCDEFGHJKLM_" + "a" * 43,
        "Bearer gw_sk_ABCDEFGHJKLM_" + "a" * 43,
        "Bearer gw_sk_ABCDEFGHJKLM_" + "a" * 42 + "\u00e9",
        "Bearer " + "x" * 5000,
    ],
)
async def test_malformed_and_unknown_keys_get_the_same_401(
    client: httpx.AsyncClient, token: str, authorization: str
) -> None:
    unknown = await client.get(URL, headers={"authorization": "Bearer gw_sk_ABCDEFGHJKLM_" + "b" * 43})
    response = await client.get(URL, headers={"authorization": authorization.encode("utf-8")})  # type: ignore[dict-item]
    assert_401(response)
    assert problem_without_request_id(response) == problem_without_request_id(unknown)


async def test_wrong_secret_and_revoked_key_get_the_same_401(
    client: httpx.AsyncClient, token: str, session: AsyncSession
) -> None:
    unknown = await client.get(URL, headers=bearer("gw_sk_ABCDEFGHJKLM_" + "b" * 43))
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    wrong = await client.get(URL, headers=bearer(tampered))
    assert_401(wrong)
    assert (await client.delete(f"{URL}/{prefix_of(token)}", headers=bearer(token))).status_code == 204
    revoked = await client.get(URL, headers=bearer(token))
    assert_401(revoked)
    assert (
        problem_without_request_id(wrong)
        == problem_without_request_id(revoked)
        == problem_without_request_id(unknown)
    )


async def test_a_revoked_key_cannot_write(
    client: httpx.AsyncClient, token: str, account: Account, session: AsyncSession
) -> None:
    assert (await client.delete(f"{URL}/{prefix_of(token)}", headers=bearer(token))).status_code == 204
    before = await audit_trail(session, account)
    assert_401(await client.post(URL, json={"name": "After revocation"}, headers=bearer(token)))
    assert await audit_trail(session, account) == before
    assert len((await session.scalars(select(SchoolApiKey))).all()) == 1


async def test_other_kinds_of_gateway_keys_are_refused(
    client: httpx.AsyncClient, account: Account, session: AsyncSession, master_key_b64: str
) -> None:
    ring = Keyring(base64.b64decode(master_key_b64))
    _row, connector_token = await connector_keys.create_key(
        session, ring, account.school.id, actor="operator"
    )
    _dev, _key, developer_token = await developers.create_developer(
        session, ring, name="Synthetic Apps Ltd", email="dev@synthetic-apps.example.org"
    )
    await session.commit()
    assert_401(await client.get(URL, headers=bearer(connector_token)))
    assert_401(await client.get(URL, headers=bearer(developer_token)))


async def test_last_use_is_recorded(client: httpx.AsyncClient, token: str, session: AsyncSession) -> None:
    row = await session.scalar(select(SchoolApiKey).where(SchoolApiKey.prefix == prefix_of(token)))
    assert row is not None
    assert row.last_used_at is None
    assert (await client.get(URL, headers=bearer(token))).status_code == 200
    await session.refresh(row)
    assert row.last_used_at is not None


# --- admin session ----------------------------------------------------------------------------------------


async def test_a_session_reads_without_csrf(admin_browser: SignedIn) -> None:
    response = await admin_browser.client.get(URL)
    assert response.status_code == 200
    assert response.json() == {"api_keys": []}


@pytest.mark.parametrize("csrf", [None, "", "wrong-token", "x" * 65])
async def test_a_session_write_without_the_csrf_token_is_403(
    admin_browser: SignedIn, account: Account, session: AsyncSession, csrf: str | None
) -> None:
    headers = {} if csrf is None else {"x-csrf-token": csrf}
    created = await admin_browser.client.post(URL, json={"name": "Forged"}, headers=headers)
    assert created.status_code == 403
    assert created.headers["content-type"] == "application/problem+json"
    assert created.json()["type"] == "urn:gateway:problem:csrf-rejected"
    assert (await session.scalars(select(SchoolApiKey))).all() == []
    assert not [e for e in await audit_trail(session, account) if e[0].startswith("api_key.")]


async def test_a_session_revoke_without_the_csrf_token_is_403(
    admin_browser: SignedIn, token: str, client: httpx.AsyncClient
) -> None:
    response = await admin_browser.client.delete(f"{URL}/{prefix_of(token)}")
    assert response.status_code == 403
    assert (await client.get(URL, headers=bearer(token))).status_code == 200  # still live


async def test_another_sessions_csrf_token_is_refused(
    admin_browser: SignedIn, account: Account, session: AsyncSession
) -> None:
    _cookie, foreign_csrf = await session_cookie(session, account, Stage.FULL)
    response = await admin_browser.client.post(
        URL, json={"name": "x"}, headers={"x-csrf-token": foreign_csrf}
    )
    assert response.status_code == 403


async def test_a_csrf_token_without_a_session_is_401(
    client: httpx.AsyncClient, admin_browser: SignedIn
) -> None:
    assert_401(await client.post(URL, json={"name": "x"}, headers=admin_browser.csrf))


@pytest.mark.parametrize("stage", [Stage.SECOND_FACTOR, Stage.ENROL])
async def test_a_half_signed_in_session_is_401(
    browser: httpx.AsyncClient, account: Account, session: AsyncSession, stage: Stage
) -> None:
    cookie, csrf = await session_cookie(session, account, stage)
    set_session_cookie(browser, cookie)
    assert_401(await browser.get(URL))
    assert_401(await browser.post(URL, json={"name": "x"}, headers={"x-csrf-token": csrf}))


async def test_a_full_session_opened_directly_works(
    browser: httpx.AsyncClient, account: Account, session: AsyncSession
) -> None:
    cookie, csrf = await session_cookie(session, account, Stage.FULL)
    set_session_cookie(browser, cookie)
    response = await browser.post(URL, json={"name": "Direct"}, headers={"x-csrf-token": csrf})
    assert response.status_code == 201


@pytest.mark.parametrize("cookie", ["", "gw_ss_unknown", "x" * 200])
async def test_an_unknown_session_cookie_is_401(browser: httpx.AsyncClient, cookie: str) -> None:
    set_session_cookie(browser, cookie)
    assert_401(await browser.get(URL))


async def test_a_signed_out_session_is_401(admin_browser: SignedIn) -> None:
    browser = admin_browser.client
    assert (await browser.post("/logout", data={"csrf_token": admin_browser.csrf_token})).status_code == 303
    assert_401(await browser.get(URL))


async def test_a_disabled_admins_session_is_401(
    admin_browser: SignedIn, account: Account, session: AsyncSession
) -> None:
    await disable_admin(session, account.admin, actor="operator")
    await session.commit()
    assert_401(await admin_browser.client.get(URL))


async def test_a_bad_key_is_not_rescued_by_a_good_session(admin_browser: SignedIn) -> None:
    """An Authorization header decides alone: a wrong key is 401 even with a valid cookie."""
    response = await admin_browser.client.post(
        URL,
        json={"name": "x"},
        headers={**admin_browser.csrf, **bearer("gw_sk_ABCDEFGHJKLM_" + "a" * 43)},
    )
    assert_401(response)


async def test_a_key_needs_no_csrf_token_even_with_a_cookie(admin_browser: SignedIn, token: str) -> None:
    response = await admin_browser.client.post(URL, json={"name": "Key wins"}, headers=bearer(token))
    assert response.status_code == 201
