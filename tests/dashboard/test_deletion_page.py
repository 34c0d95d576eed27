"""`/dashboard/deletion`: an admin asks for the school's data to be deleted with their password (and code),
sees it scheduled, cancels it; every admin is emailed; a wrong password deletes nothing and counts."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.accounts.models import Admin
from gateway.email.models import OutboxMessage
from gateway.erasure.requests import pending_deletions
from gateway.keys.keyring import Keyring
from tests.support.accounts import Account, csrf_from, make_account, sign_in
from tests.support.audit import events_of
from tests.support.consent_flow import enrol_totp

PAGE = "/dashboard/deletion"
FORM = {"content-type": "application/x-www-form-urlencoded", "accept": "text/html"}


async def post(browser: httpx.AsyncClient, path: str, **fields: str) -> httpx.Response:
    return await browser.post(path, content=urlencode(fields), headers=FORM)


async def signed_in(browser: httpx.AsyncClient, account: Account) -> str:
    response = await sign_in(browser, account.email, account.password)
    assert response.status_code == 303, response.text[:300]
    return await csrf_from(browser, PAGE)


async def mails_to(session: AsyncSession, address: str) -> list[str]:
    return list(
        await session.scalars(select(OutboxMessage.subject).where(OutboxMessage.to_address == address))
    )


async def test_signed_out_admins_go_to_sign_in_and_come_back(browser: httpx.AsyncClient) -> None:
    response = await browser.get(PAGE)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={PAGE}"
    refused = await post(browser, PAGE, csrf_token="x", password="y")
    assert refused.status_code == 303
    assert refused.headers["location"] == "/login"


async def test_ask_with_the_password_then_cancel(
    browser: httpx.AsyncClient, session: AsyncSession, account: Account
) -> None:
    colleague = await make_account(session, "deputy@synthetic-school.example.org", school=account.school)
    token = await signed_in(browser, account)
    page = await browser.get(PAGE)
    assert page.status_code == 200
    assert 'name="password"' in page.text
    assert 'name="code"' not in page.text  # no authenticator app: the password alone
    assert "5th working day" in page.text

    wrong = await post(browser, PAGE, csrf_token=token, password="not-the-password-1")
    assert wrong.status_code == 303
    assert wrong.headers["location"] == f"{PAGE}?problem=identity"
    assert "That password or code is not right" in (await browser.get(wrong.headers["location"])).text
    assert await pending_deletions(session, account.school.id) == []
    attempts = await session.scalar(
        select(Admin.failed_attempts)
        .where(Admin.id == account.admin.id)
        .execution_options(populate_existing=True)
    )
    assert attempts == 1

    asked = await post(browser, PAGE, csrf_token=token, password=account.password)
    assert asked.headers["location"] == f"{PAGE}?notice=requested"
    [pending] = await pending_deletions(session, account.school.id)
    assert pending.rule == "deletion_requested"
    shown = (await browser.get(PAGE)).text
    assert "Deletion of all the school&#39;s data" in shown or "Deletion of all the school's data" in shown
    assert pending.due_on.strftime("%-d %B %Y") in shown
    assert "Cancel the deletion" in shown
    assert 'name="password"' not in shown
    for address in (account.email, colleague.email):
        assert any("will be deleted on" in subject for subject in await mails_to(session, address))
    [(actor, _details)] = await events_of(session, account.school.id, "deletion.requested")
    assert actor == f"admin:{account.admin.id}"

    cancelled = await post(browser, f"{PAGE}/cancel", csrf_token=token)
    assert cancelled.headers["location"] == f"{PAGE}?notice=cancelled"
    assert await pending_deletions(session, account.school.id) == []
    assert any("will not be deleted" in subject for subject in await mails_to(session, colleague.email))
    again = await post(browser, f"{PAGE}/cancel", csrf_token=token)
    assert again.headers["location"] == f"{PAGE}?problem=nothing"


async def test_an_admin_with_an_authenticator_app_also_gives_a_code(
    browser: httpx.AsyncClient, session: AsyncSession, keyring: Keyring, account: Account
) -> None:
    totp = await enrol_totp(session, keyring, account)
    response = await sign_in(browser, account.email, account.password)
    assert response.headers["location"].startswith("/login/totp")
    code_token = await csrf_from(browser, response.headers["location"])
    finished = await browser.post("/login/totp", data={"code": totp.now(), "csrf_token": code_token})
    assert finished.status_code == 303, finished.text[:300]
    token = await csrf_from(browser, PAGE)
    assert 'name="code"' in (await browser.get(PAGE)).text

    without = await post(browser, PAGE, csrf_token=token, password=account.password, code="000000")
    assert without.headers["location"] == f"{PAGE}?problem=identity"
    await session.execute(
        Admin.__table__.update().where(Admin.id == account.admin.id).values(totp_last_step=0)
    )
    await session.commit()
    asked = await post(browser, PAGE, csrf_token=token, password=account.password, code=totp.now())
    assert asked.headers["location"] == f"{PAGE}?notice=requested"


async def test_wrong_missing_oversized_and_hostile_input_deletes_nothing(
    browser: httpx.AsyncClient, session: AsyncSession, account: Account
) -> None:
    token = await signed_in(browser, account)
    cases = [
        urlencode({"password": account.password}),  # no CSRF token
        urlencode({"csrf_token": "forged", "password": account.password}),
        urlencode({"csrf_token": token, "password": "x" * 600}),
        urlencode({"csrf_token": token, "password": account.password, "code": "1" * 41}),
        urlencode({"csrf_token": token, "password": "\x00" + account.password}),
        urlencode({"csrf_token": token}) + "&password=%ED%A0%80",  # a lone surrogate, as UTF-8 bytes
        urlencode({"csrf_token": token}) + "&password=%FF%FE",  # not UTF-8 at all
    ]
    for body in cases:
        response = await browser.post(PAGE, content=body.encode(), headers=FORM)
        assert 300 <= response.status_code < 500, (body, response.status_code)
        assert "Traceback" not in response.text
        if response.status_code == 303:
            assert response.headers["location"] == f"{PAGE}?problem=identity"
    assert await pending_deletions(session, account.school.id) == []
    assert re.search(
        r"problem=", (await post(browser, f"{PAGE}/cancel", csrf_token=token)).headers["location"]
    )


async def test_another_schools_request_is_out_of_reach(
    browser: httpx.AsyncClient, session: AsyncSession, account: Account, other_account: Account
) -> None:
    from gateway.db.base import utcnow
    from gateway.erasure.requests import request_deletion

    await request_deletion(session, other_account.school, actor="operator", now=utcnow())
    await session.commit()
    token = await signed_in(browser, account)
    assert "Cancel the deletion" not in (await browser.get(PAGE)).text
    refused = await post(browser, f"{PAGE}/cancel", csrf_token=token)
    assert refused.headers["location"] == f"{PAGE}?problem=nothing"
    assert len(await pending_deletions(session, other_account.school.id)) == 1
