"""`/dashboard/settings`: an admin sets the data protection contact and whether admins are emailed when an
app asks for more access; wrong, missing, oversized and hostile input changes nothing; a change is in the
chain without the contact in it; the email on more access follows the setting (issue 16, item 3)."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.email.models import OutboxMessage
from gateway.schools.settings import SchoolSettings, Settings, settings_of
from tests.support.accounts import Account, csrf_from, make_account, sign_in
from tests.support.audit import events_of
from tests.support.consent_flow import authorize_url, open_consent
from tests.support.grants import Connected

PAGE = "/dashboard/settings"
FORM = {"content-type": "application/x-www-form-urlencoded", "accept": "text/html"}
GOOD = "dpo_name=Dana+Protector&dpo_email=DPO%40Trust.example.org&email_on_more_access=on"


async def signed_in(browser: httpx.AsyncClient, account: Account) -> str:
    response = await sign_in(browser, account.email, account.password)
    assert response.status_code == 303, response.text[:300]
    return await csrf_from(browser, PAGE)


async def post(browser: httpx.AsyncClient, body: str) -> httpx.Response:
    return await browser.post(PAGE, content=body, headers=FORM)


async def stored(session: AsyncSession, account: Account) -> SchoolSettings | None:
    return await session.scalar(
        select(SchoolSettings)
        .where(SchoolSettings.school_id == account.school.id)
        .execution_options(populate_existing=True)
    )


async def test_signed_out_admins_go_to_sign_in(browser: httpx.AsyncClient) -> None:
    response = await browser.get(PAGE)
    assert (response.status_code, response.headers["location"]) == (303, f"/login?next={PAGE}")
    assert (await post(browser, GOOD)).status_code in (303, 401, 403)


async def test_set_then_change_the_contact_and_the_email_setting(
    browser: httpx.AsyncClient, session: AsyncSession, account: Account
) -> None:
    token = await signed_in(browser, account)
    page = await browser.get(PAGE)
    for control in ("dpo_name", "dpo_email", "email_on_more_access"):
        assert f'<label for="{control}">' in page.text
        assert f'id="{control}" name="{control}"' in page.text
    assert "checked" in page.text  # on by default
    assert "<script" not in page.text
    assert 'href="/dashboard/settings"' in (await browser.get("/account")).text

    saved = await post(browser, f"{GOOD}&csrf_token={token}")
    assert (saved.status_code, saved.headers["location"]) == (303, f"{PAGE}?notice=saved")
    assert await settings_of(session, account.school.id) == Settings(
        "Dana Protector", "dpo@trust.example.org", True
    )
    shown = (await browser.get(saved.headers["location"])).text
    assert "Settings saved" in shown
    assert 'value="dpo@trust.example.org"' in shown

    again = await post(browser, f"{GOOD}&csrf_token={token}")  # nothing changed: nothing recorded
    assert again.status_code == 303
    off = await post(browser, f"dpo_name=&dpo_email=&csrf_token={token}")
    assert off.status_code == 303
    assert await settings_of(session, account.school.id) == Settings(None, None, False)
    changes = await events_of(session, account.school.id, "school.settings_changed")
    assert changes == [
        (f"admin:{account.admin.id}", {"dpo_contact": "changed"}),
        (f"admin:{account.admin.id}", {"dpo_contact": "removed", "email_on_more_access": False}),
    ]
    assert "@" not in json.dumps(changes)


SURROGATE = "%ED%A0%80"  # a lone surrogate, as the UTF-8-ish bytes a browser would never send
REFUSED = {
    "no email": ("dpo_name=Dana&dpo_email=", 422),
    "no name": ("dpo_name=&dpo_email=dpo%40trust.example.org", 422),
    "not an address": ("dpo_name=Dana&dpo_email=not-an-address", 422),
    "header injection": ("dpo_name=Dana&dpo_email=dpo%40trust.example.org%0D%0ABcc%3Aall%40x.org", 422),
    "a name over 200": ("dpo_name=" + "a" * 201 + "&dpo_email=dpo%40trust.example.org", 422),
    "a NUL": ("dpo_name=Da%00na&dpo_email=dpo%40trust.example.org", 400),
    "a lone surrogate": (f"dpo_name=Da{SURROGATE}na&dpo_email=dpo%40trust.example.org", 400),
    "10 KB": ("dpo_name=" + "a" * 10_240 + "&dpo_email=dpo%40trust.example.org", 400),
    "10 KB address": ("dpo_name=Dana&dpo_email=" + "a" * 10_240 + "%40trust.example.org", 400),
    "twice": ("dpo_name=Dana&dpo_name=Eve&dpo_email=dpo%40trust.example.org", 400),
    "a strange tick": ("dpo_name=Dana&dpo_email=dpo%40trust.example.org&email_on_more_access=yes", 400),
}


@pytest.mark.parametrize("case", list(REFUSED))
async def test_wrong_missing_oversized_and_hostile_input_change_nothing(
    case: str, browser: httpx.AsyncClient, session: AsyncSession, account: Account
) -> None:
    token = await signed_in(browser, account)
    body, status = REFUSED[case]
    response = await post(browser, f"{body}&csrf_token={token}")
    assert response.status_code == status, response.text[:300]
    if status == 422:
        assert "There is a problem" in response.text
        assert 'name="dpo_name"' in response.text  # the form again, the admin's values kept
    assert await stored(session, account) is None
    assert await events_of(session, account.school.id, "school.settings_changed") == []


async def test_no_csrf_token_or_another_session_changes_nothing(
    browser: httpx.AsyncClient, session: AsyncSession, account: Account
) -> None:
    other = await make_account(session, "office@elsewhere.example.org")
    await signed_in(browser, other)
    other_token = await csrf_from(browser, PAGE)
    browser.cookies.clear()
    await signed_in(browser, account)
    assert (await post(browser, GOOD)).status_code == 403
    assert (await post(browser, f"{GOOD}&csrf_token={other_token}")).status_code == 403
    assert await stored(session, account) is None
    assert await stored(session, other) is None


async def test_opening_a_request_for_more_emails_the_other_admins_unless_turned_off(
    browser: httpx.AsyncClient, session: AsyncSession, connected: Connected
) -> None:
    party = connected.party
    colleague = await make_account(session, "deputy@grant-school.example.org", school=party.school)

    async def mails() -> list[str]:
        return list(
            await session.scalars(
                select(OutboxMessage.subject).where(OutboxMessage.to_address == colleague.email)
            )
        )

    same = authorize_url(party, scope="school groups students.basic")
    await open_consent(browser, party, same)
    assert await mails() == []  # nothing more than the grant holds
    more = authorize_url(party, scope="school groups students.basic attendance.summaries")
    consent_path, _page = await open_consent(browser, party, more)
    assert await mails() == [f"{party.app.name} asks for more access to {party.school.name}'s data"]
    await browser.get(consent_path)  # shown again: not a new request
    assert len(await mails()) == 1
    assert not await session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.to_address == party.account.email)
    )

    token = await csrf_from(browser, PAGE)
    assert (await post(browser, f"dpo_name=&dpo_email=&csrf_token={token}")).status_code == 303
    await open_consent(browser, party, more)
    assert len(await mails()) == 1
