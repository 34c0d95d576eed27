"""A failed sign-in shows the form again with the email that was typed (escaped), never the password, and
keeps the email out of the URL; a successful sign-in forgets it."""

from __future__ import annotations

import re

import httpx
import pytest

from gateway.accounts.pages import TYPED_EMAIL_COOKIE
from tests.support.accounts import PASSWORD, Account, csrf_from


def email_value(page: httpx.Response) -> str | None:
    tag = re.search(r'<input id="email" name="email"[^>]*>', page.text)
    assert tag, page.text[:500]
    value = re.search(r' value="([^"]*)"', tag.group(0))
    return value.group(1) if value else None


async def fail_with(browser: httpx.AsyncClient, email: str, password: str = "Not-The-Password-1") -> str:  # noqa: S107
    token = await csrf_from(browser, "/login")
    response = await browser.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 303
    location = response.headers["location"]
    assert location == "/login?failed=true"
    return location


async def test_the_typed_email_is_shown_again_but_not_the_password(
    browser: httpx.AsyncClient, account: Account
) -> None:
    password = "Secret-Guess-4821"
    location = await fail_with(browser, account.email, password)
    page = await browser.get(location)
    assert "There is a problem" in page.text
    assert email_value(page) == account.email
    assert password not in page.text
    assert account.email not in location
    # The password field has the focus, so the admin types the password again straight away.
    assert re.search(r'<input id="password"[^>]*autofocus', page.text)


async def test_the_email_is_escaped(browser: httpx.AsyncClient) -> None:
    typed = '"><script>alert(1)</script>@example.org'
    page = await browser.get(await fail_with(browser, typed))
    assert "<script>alert" not in page.text
    assert email_value(page) == "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;@example.org"


async def test_only_a_failed_form_is_filled_and_success_forgets_the_email(
    browser: httpx.AsyncClient, account: Account
) -> None:
    await fail_with(browser, account.email)
    assert email_value(await browser.get("/login")) is None  # a fresh sign-in page starts empty
    token = await csrf_from(browser, "/login")
    signed_in = await browser.post(
        "/login", data={"email": account.email, "password": PASSWORD, "csrf_token": token}
    )
    assert signed_in.headers["location"] == "/dashboard"
    assert f"{TYPED_EMAIL_COOKIE}=" in signed_in.headers.get("set-cookie", "")
    assert TYPED_EMAIL_COOKIE not in browser.cookies
    assert email_value(await browser.get("/login?failed=true")) is None


@pytest.mark.parametrize("typed", ["x" * 300 + "@example.org", "\u0000@example.org", "a\u202eb@example.org"])
async def test_values_that_cannot_be_an_address_are_not_kept(browser: httpx.AsyncClient, typed: str) -> None:
    token = await csrf_from(browser, "/login")
    response = await browser.post("/login", data={"email": typed, "password": "x", "csrf_token": token})
    assert response.status_code in {303, 422}
    assert TYPED_EMAIL_COOKIE not in response.headers.get("set-cookie", "")
    assert email_value(await browser.get("/login?failed=true")) is None


@pytest.mark.parametrize("cookie", ["%%%", "x" * 5000, "gA==", "AAEC"])
async def test_a_tampered_cookie_fills_nothing(browser: httpx.AsyncClient, cookie: str) -> None:
    browser.cookies.set(TYPED_EMAIL_COOKIE, cookie, domain="gateway.test", path="/")
    page = await browser.get("/login?failed=true")
    assert page.status_code == 200
    assert email_value(page) is None
