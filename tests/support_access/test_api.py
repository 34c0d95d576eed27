"""`/manage/v1/support-requests`: the school's own requests; approving needs an admin with a second factor;
a key may decline, shorten and withdraw; wrong, hostile and another school's ids change nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.base import utcnow
from gateway.keys.keyring import Keyring
from gateway.support import requests
from tests.support.accounts import Account, SignedIn, csrf_from
from tests.support.consent_flow import enrol_totp
from tests.support.http import bearer
from tests.support.school_keys import issue_key

URL = "/manage/v1/support-requests"


async def asked(session: AsyncSession, owner: Account, hours: int = 4) -> str:
    row = await requests.request_support(
        session,
        owner.school,
        operator="jo.support",
        reason="Their nightly sync reports 3 pupils missing",
        resources=["students"],
        hours=hours,
        now=utcnow(),
    )
    await session.commit()
    return str(row.id)


async def signed_in_with_totp(
    browser: httpx.AsyncClient, session: AsyncSession, keyring: Keyring, owner: Account
) -> SignedIn:
    totp = await enrol_totp(session, keyring, owner)
    first = await browser.post(
        "/login",
        data={
            "email": owner.email,
            "password": owner.password,
            "csrf_token": await csrf_from(browser, "/login"),
        },
    )
    step = first.headers["location"]
    done = await browser.post(
        "/login/totp", data={"code": totp.now(), "csrf_token": await csrf_from(browser, step)}
    )
    assert done.status_code == 303, done.text[:300]
    return SignedIn(browser, await csrf_from(browser, "/account"))


async def test_a_key_lists_declines_but_cannot_approve(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring, account: Account
) -> None:
    token = await issue_key(session, keyring, account)
    request_id = await asked(session, account)
    listed = await client.get(URL, headers=bearer(token))
    assert listed.status_code == 200
    [row] = listed.json()["support_requests"]
    assert (row["id"], row["state"], row["operator"], row["resources"]) == (
        request_id,
        "pending",
        "jo.support",
        ["students"],
    )
    refused = await client.post(f"{URL}/{request_id}/approve", headers=bearer(token))
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    declined = await client.post(f"{URL}/{request_id}/decline", headers=bearer(token))
    assert declined.status_code == 200
    assert declined.json()["state"] == "declined"
    assert (await client.post(f"{URL}/{request_id}/decline", headers=bearer(token))).status_code == 409


async def test_an_admin_with_a_second_factor_approves_shortens_and_withdraws(
    browser: httpx.AsyncClient, session: AsyncSession, keyring: Keyring, account: Account
) -> None:
    request_id = await asked(session, account)
    admin = await signed_in_with_totp(browser, session, keyring, account)
    approved = await browser.post(f"{URL}/{request_id}/approve", json={"hours": 3}, headers=admin.csrf)
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["state"] == "live"
    assert body["decided_by"] == f"admin:{account.admin.id}"
    until = (utcnow() + timedelta(hours=1)).isoformat()
    shortened = await browser.post(f"{URL}/{request_id}/shorten", json={"until": until}, headers=admin.csrf)
    assert shortened.status_code == 200, shortened.text
    assert shortened.json()["expires_at"] < body["expires_at"]
    naive = await browser.post(
        f"{URL}/{request_id}/shorten", json={"until": "2026-12-05T10:00:00"}, headers=admin.csrf
    )
    assert naive.status_code == 422
    withdrawn = await browser.post(f"{URL}/{request_id}/withdraw", headers=admin.csrf)
    assert withdrawn.json()["state"] == "withdrawn"
    assert (await browser.post(f"{URL}/{request_id}/withdraw", headers=admin.csrf)).status_code == 409
    no_csrf = await browser.post(f"{URL}/{request_id}/decline")
    assert no_csrf.status_code == 403


async def test_an_admin_without_a_second_factor_cannot_approve(
    browser: httpx.AsyncClient, session: AsyncSession, account: Account
) -> None:
    request_id = await asked(session, account)
    first = await browser.post(
        "/login",
        data={
            "email": account.email,
            "password": account.password,
            "csrf_token": await csrf_from(browser, "/login"),
        },
    )
    assert first.headers["location"] == "/dashboard"
    admin = SignedIn(browser, await csrf_from(browser, "/account"))
    refused = await browser.post(f"{URL}/{request_id}/approve", headers=admin.csrf)
    assert refused.status_code == 403
    assert "authenticator app" in refused.json()["detail"]


async def test_wrong_hostile_and_other_schools_ids(
    client: httpx.AsyncClient,
    session: AsyncSession,
    keyring: Keyring,
    account: Account,
    other_account: Account,
) -> None:
    token = await issue_key(session, keyring, account)
    theirs = await asked(session, other_account)
    for path in (f"{URL}/{theirs}", f"{URL}/{uuid.uuid4()}"):
        assert (await client.get(path, headers=bearer(token))).status_code == 404
        assert (await client.post(f"{path}/decline", headers=bearer(token))).status_code == 404
    for bad in ("not-a-uuid", "0" * 5000, "%00"):
        response = await client.get(f"{URL}/{bad}", headers=bearer(token))
        assert response.status_code in (404, 414, 422), (bad, response.status_code)
    mine = await asked(session, account)
    for body in ({"hours": 0}, {"hours": 169}, {"hours": "4"}, {"hours": 2, "extra": 1}, {"hours": 2**70}):
        response = await client.post(f"{URL}/{mine}/approve", json=body, headers=bearer(token))
        assert response.status_code in (400, 403, 422), (body, response.status_code)
    listed = (await client.get(URL, headers=bearer(token))).json()["support_requests"]
    assert [row["state"] for row in listed] == ["pending"]
    assert (await client.get(URL)).status_code == 401
