"""`/dashboard/support`: pending, live and past requests; allow (with a second factor), decline, shorten,
withdraw, as a browser would (forms, cookies, CSRF); another school's request is a 404 page."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.base import utcnow
from gateway.keys.keyring import Keyring
from gateway.support import requests
from tests.support.accounts import Account, csrf_from, sign_in
from tests.support_access.test_api import asked, signed_in_with_totp

PAGE = "/dashboard/support"
FORM = {"content-type": "application/x-www-form-urlencoded", "accept": "text/html"}


async def post(browser: httpx.AsyncClient, path: str, **fields: str) -> httpx.Response:
    return await browser.post(path, content=urlencode(fields), headers=FORM)


async def state(session: AsyncSession, owner: Account, request_id: str) -> str:
    row = await requests.school_request(session, owner.school.id, uuid.UUID(request_id))
    return row.state_at(utcnow())


async def test_allow_for_fewer_hours_shorten_then_withdraw(
    browser: httpx.AsyncClient, session: AsyncSession, keyring: Keyring, account: Account
) -> None:
    request_id = await asked(session, account, hours=6)
    admin = await signed_in_with_totp(browser, session, keyring, account)
    page = await browser.get(PAGE)
    assert "jo.support" in page.text
    assert "Their nightly sync reports 3 pupils missing" in page.text
    assert f'action="/dashboard/support/{request_id}/approve"' in page.text
    allowed = await post(browser, f"{PAGE}/{request_id}/approve", csrf_token=admin.csrf_token, hours="4")
    assert allowed.headers["location"] == f"{PAGE}?notice=approved"
    assert await state(session, account, request_id) == "live"
    live = (await browser.get(PAGE)).text
    assert "Withdraw now" in live
    settings = (await browser.get("/dashboard/settings")).text
    assert "jo.support, to read students" in settings
    assert "allowed until" in settings
    shortened = await post(browser, f"{PAGE}/{request_id}/shorten", csrf_token=admin.csrf_token, hours="1")
    assert shortened.headers["location"] == f"{PAGE}?notice=shortened"
    withdrawn = await post(browser, f"{PAGE}/{request_id}/withdraw", csrf_token=admin.csrf_token)
    assert withdrawn.headers["location"] == f"{PAGE}?notice=withdrawn"
    assert await state(session, account, request_id) == "withdrawn"
    again = await post(browser, f"{PAGE}/{request_id}/withdraw", csrf_token=admin.csrf_token)
    assert again.headers["location"] == f"{PAGE}?problem=not_live"


async def test_without_a_second_factor_the_page_says_how_and_decline_still_works(
    browser: httpx.AsyncClient, session: AsyncSession, account: Account
) -> None:
    request_id = await asked(session, account)
    await sign_in(browser, account.email, account.password)
    token = await csrf_from(browser, PAGE)
    page = (await browser.get(PAGE)).text
    assert "set one up" in page
    assert f"/dashboard/support/{request_id}/approve" not in page
    refused = await post(browser, f"{PAGE}/{request_id}/approve", csrf_token=token, hours="1")
    assert refused.headers["location"] == f"{PAGE}?problem=totp"
    declined = await post(browser, f"{PAGE}/{request_id}/decline", csrf_token=token)
    assert declined.headers["location"] == f"{PAGE}?notice=declined"
    assert await state(session, account, request_id) == "declined"


async def test_wrong_hostile_and_other_schools_input_changes_nothing(
    browser: httpx.AsyncClient,
    session: AsyncSession,
    keyring: Keyring,
    account: Account,
    other_account: Account,
) -> None:
    theirs = await asked(session, other_account)
    mine = await asked(session, account)
    admin = await signed_in_with_totp(browser, session, keyring, account)
    assert (
        await post(browser, f"{PAGE}/{theirs}/approve", csrf_token=admin.csrf_token, hours="1")
    ).status_code == 404
    assert (await post(browser, f"{PAGE}/not-a-uuid/decline", csrf_token=admin.csrf_token)).status_code == 404
    assert (await post(browser, f"{PAGE}/{mine}/explode", csrf_token=admin.csrf_token)).status_code == 404
    for hours in ("0", "7", "-1", "1e3", "٣", "9" * 9, "\x00"):
        response = await post(browser, f"{PAGE}/{mine}/approve", csrf_token=admin.csrf_token, hours=hours)
        assert response.status_code in (303, 422), (hours, response.status_code)
        if response.status_code == 303:
            assert response.headers["location"] == f"{PAGE}?problem=hours"
    forged = await post(browser, f"{PAGE}/{mine}/approve", csrf_token="forged", hours="1")
    assert forged.status_code in (400, 403)
    assert await state(session, account, mine) == "pending"
    assert await state(session, other_account, theirs) == "pending"
