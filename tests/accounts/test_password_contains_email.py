"""A password that contains the admin's email address, or its local part, is refused on every page that
sets one (issue 12, item 5): the form says why and nothing changes. `gateway admin add` and
`school create --admin-email` set no password (they print a setup link), so the pages are the only way in."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.accounts import service
from gateway.accounts.links import LinkPurpose, issue_link, link_url
from gateway.accounts.models import AccountLink, Admin
from gateway.auth.passwords import PolicyCode, policy_message
from tests.support.accounts import (
    ISSUER,
    PASSWORD,
    Account,
    csrf_from,
    make_account,
    sign_in,
    submit_password_form,
)

EMAIL = "vb@example.org"
REFUSED = [
    "vb@example.org1",  # the reproduction from issue 12
    "VB@EXAMPLE.ORG1",
    "Vb@Example.Org-2026",
    "VB-vb-2026!x",  # the local part as words of its own
    "Spring vb 2026 walk",
]
STRONG = "Orchard-Lamp-5521"


def message(code: PolicyCode) -> str:
    text = policy_message(code)
    assert text is not None
    return text


MESSAGE = message(PolicyCode.CONTAINS_EMAIL)


@pytest.fixture
async def vb(session: AsyncSession) -> Account:
    return await make_account(session, EMAIL)


async def password_hash(session: AsyncSession, admin: Admin) -> str | None:
    return await session.scalar(
        select(Admin.password_hash).where(Admin.id == admin.id).execution_options(populate_existing=True)
    )


@pytest.mark.parametrize("password", REFUSED)
async def test_the_reset_form_refuses_the_address_and_keeps_the_link(
    browser: httpx.AsyncClient, vb: Account, session: AsyncSession, password: str
) -> None:
    token = await issue_link(session, vb.admin, LinkPurpose.RESET)
    await session.commit()
    path = link_url(ISSUER, LinkPurpose.RESET, token).removeprefix(ISSUER)
    before = await password_hash(session, vb.admin)

    refused = await submit_password_form(browser, path, password)
    assert refused.status_code == 303
    assert refused.headers["location"] == f"{path}&problem={PolicyCode.CONTAINS_EMAIL}"
    shown = await browser.get(refused.headers["location"])
    assert shown.status_code == 200
    assert MESSAGE in shown.text
    assert await password_hash(session, vb.admin) == before
    unused = await session.scalar(
        select(AccountLink.used_at)
        .where(AccountLink.admin_id == vb.admin.id)
        .execution_options(populate_existing=True)
    )
    assert unused is None  # the admin can try again with the same link

    done = await submit_password_form(browser, path, STRONG)
    assert done.headers["location"] == "/login?notice=password_set"
    assert (await sign_in(browser, EMAIL, STRONG)).headers["location"] == "/dashboard"


async def test_the_setup_form_refuses_the_address(
    browser: httpx.AsyncClient, vb: Account, session: AsyncSession
) -> None:
    admin, url = await service.create_admin(session, vb.school, "Jo.Bloggs@Example.org", issuer=ISSUER)
    await session.commit()
    path = url.removeprefix(ISSUER)
    for password in ("jo.bloggs@example.org7", "J0.Bl0ggs-2026", "Winter jo.bloggs 99"):
        refused = await submit_password_form(browser, path, password)
        assert f"problem={PolicyCode.CONTAINS_EMAIL}" in refused.headers["location"], password
    assert await password_hash(session, admin) is None
    done = await submit_password_form(browser, path, STRONG)
    assert done.headers["location"] == "/login?notice=password_set"


@pytest.mark.parametrize("password", REFUSED)
async def test_changing_the_password_refuses_the_address(
    browser: httpx.AsyncClient, vb: Account, session: AsyncSession, password: str
) -> None:
    await sign_in(browser, EMAIL, PASSWORD)
    token = await csrf_from(browser, "/account")
    before = await password_hash(session, vb.admin)
    refused = await browser.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "password": password,
            "password_confirm": password,
            "csrf_token": token,
        },
    )
    assert refused.status_code == 303
    assert refused.headers["location"] == f"/account?problem={PolicyCode.CONTAINS_EMAIL}"
    shown = await browser.get(refused.headers["location"])
    assert shown.status_code == 200
    assert MESSAGE in shown.text
    assert await password_hash(session, vb.admin) == before
    assert (await browser.get("/account")).status_code == 200  # still signed in


async def test_changing_to_an_unrelated_strong_password_works(
    browser: httpx.AsyncClient, vb: Account, session: AsyncSession
) -> None:
    await sign_in(browser, EMAIL, PASSWORD)
    token = await csrf_from(browser, "/account")
    changed = await browser.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "password": STRONG,
            "password_confirm": STRONG,
            "csrf_token": token,
        },
    )
    assert changed.headers["location"] == "/account?notice=password_changed"
    await browser.post("/logout", data={"csrf_token": token})
    assert (await sign_in(browser, EMAIL, STRONG)).headers["location"] == "/dashboard"


async def test_every_reason_is_listed(browser: httpx.AsyncClient, vb: Account) -> None:
    await sign_in(browser, EMAIL, PASSWORD)
    token = await csrf_from(browser, "/account")
    refused = await browser.post(
        "/account/password",
        data={"current_password": PASSWORD, "password": "vb", "password_confirm": "vb", "csrf_token": token},
    )
    shown = await browser.get(refused.headers["location"])
    for code in (PolicyCode.TOO_SHORT, PolicyCode.NO_DIGIT, PolicyCode.CONTAINS_EMAIL):
        assert f"problem={code}" in refused.headers["location"]
        assert message(code) in shown.text
