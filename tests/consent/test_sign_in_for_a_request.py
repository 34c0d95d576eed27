"""On the way to an app's request: sign-in names the app that asks (from the request, never the query),
and enrolling an authenticator from the consent page's "set one up" link comes back to the request."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import httpx
import pyotp
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.models import App
from gateway.consent.models import AuthorizationRequest
from gateway.db.base import utcnow
from gateway.developers.models import Developer
from gateway.schools.models import School
from tests.support.accounts import csrf_from
from tests.support.consent_flow import Party, authorize_url, csrf_of, open_consent

EVERYTHING = "school groups students.basic students.demographics attendance.summaries students.sen"
ASKING = "is asking for access to your school's data"


async def consent_path_of(browser: httpx.AsyncClient, party: Party, scope: str = "school") -> str:
    response = await browser.get(authorize_url(party, scope=scope))
    assert response.status_code == 302, response.text[:300]
    path = response.headers["location"]
    assert (await browser.get(path)).headers["location"] == f"/login?next={path}"
    return path


async def test_sign_in_names_the_app_and_its_developer(browser: httpx.AsyncClient, party: Party) -> None:
    path = await consent_path_of(browser, party)
    page = await browser.get(f"/login?next={path}")
    assert page.status_code == 200
    assert f"<strong>Homework Planner</strong> (by Synthetic Apps Ltd) {ASKING}" in page.text
    # A failed attempt keeps the request, and the sentence, on the page shown again.
    token = csrf_of(page)
    failed = await browser.post(
        "/login", data={"email": party.account.email, "password": "wrong", "csrf_token": token, "next": path}
    )
    assert failed.headers["location"] == f"/login?failed=true&next={path}"
    assert "<strong>Homework Planner</strong>" in (await browser.get(failed.headers["location"])).text


async def test_names_are_escaped(browser: httpx.AsyncClient, party: Party, session: AsyncSession) -> None:
    await session.execute(update(App).where(App.id == party.app.id).values(name="Planner <b>&</b>"))
    await session.execute(
        update(Developer).where(Developer.id == party.app.developer_id).values(name='"Quotes" & Co')
    )
    await session.commit()
    path = await consent_path_of(browser, party)
    text = (await browser.get(f"/login?next={path}")).text
    assert "<strong>Planner &lt;b&gt;&amp;&lt;/b&gt;</strong> (by &#34;Quotes&#34; &amp; Co)" in text


async def test_nothing_is_named_for_a_request_that_is_gone_unknown_or_not_a_request(
    browser: httpx.AsyncClient, party: Party, session: AsyncSession
) -> None:
    path = await consent_path_of(browser, party)
    for next_path in (
        "/consent/" + "x" * 43,
        "/dashboard",
        "https://evil.example/consent/" + path.rsplit("/", 1)[1],
        path + "&app=Evil",
    ):
        page = await browser.get(f"/login?next={quote(next_path)}&app_name=Evil+Corp")
        assert page.status_code == 200
        assert ASKING not in page.text
        assert "Evil" not in page.text
    await session.execute(update(AuthorizationRequest).values(expires_at=utcnow() - timedelta(seconds=1)))
    await session.commit()
    assert ASKING not in (await browser.get(f"/login?next={path}")).text
    await session.execute(
        update(AuthorizationRequest).values(expires_at=utcnow() + timedelta(minutes=5), completed_at=utcnow())
    )
    await session.commit()
    assert ASKING not in (await browser.get(f"/login?next={path}")).text


async def enrol_from(browser: httpx.AsyncClient, enrol_path: str, *, wrong_first: bool) -> httpx.Response:
    """Set up an authenticator on the page at `enrol_path`, as an admin would: (optionally) a wrong code
    first, then the code the app shows for the key on the page. The recovery-codes page."""
    page = await browser.get(enrol_path)
    assert page.status_code == 200, page.text[:300]
    match = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page.text)
    assert match
    secret = match.group(1).replace(" ", "")
    next_field = re.search(r'<input type="hidden" name="next" value="([^"]*)">', page.text)
    fields = {"csrf_token": csrf_of(page)} | ({"next": next_field.group(1)} if next_field else {})
    if wrong_first:
        wrong = await browser.post("/account/totp", data=fields | {"code": "000000"})
        assert wrong.status_code == 303
        page = await browser.get(wrong.headers["location"])
        assert "That code does not match" in page.text
        assert (next_field is None) == ('name="next"' not in page.text)
    return await browser.post("/account/totp", data=fields | {"code": pyotp.TOTP(secret).now()})


async def test_enrolling_from_the_consent_page_returns_to_the_request(
    browser: httpx.AsyncClient, party: Party
) -> None:
    path, consent = await open_consent(browser, party, authorize_url(party, scope=EVERYTHING))
    link = f'href="/account/totp?next={path}">set one up</a>'
    assert link in consent.text
    page = await browser.get(f"/account/totp?next={path}")
    assert f'<input type="hidden" name="next" value="{path}">' in page.text
    assert f"<strong>Homework Planner</strong> (by Synthetic Apps Ltd) {ASKING}" in page.text
    codes = await enrol_from(browser, f"/account/totp?next={path}", wrong_first=True)
    assert codes.status_code == 200
    assert f'<a href="{path}">Continue to the app&#39;s request</a>' in codes.text
    back = await browser.get(path)
    assert back.status_code == 200
    assert "set one up" not in back.text  # the admin can now share the sensitive data
    # Enrolled already: the link goes straight back to the request.
    again = await browser.get(f"/account/totp?next={path}")
    assert again.headers["location"] == path


@pytest.mark.parametrize("next_path", ["https://evil.example/", "//evil.example", "/account/totp"])
async def test_enrolment_returns_only_to_a_consent_or_dashboard_page(
    browser: httpx.AsyncClient, party: Party, next_path: str
) -> None:
    await open_consent(browser, party, authorize_url(party))
    codes = await enrol_from(browser, f"/account/totp?next={quote(next_path)}", wrong_first=False)
    assert '<a href="/account">Continue to your account</a>' in codes.text
    assert "evil" not in codes.text


async def test_an_admin_who_must_enrol_is_brought_back_to_the_request(
    browser: httpx.AsyncClient, party: Party, session: AsyncSession
) -> None:
    """A school that requires a second factor: sign-in goes to enrolment first, then back to the request."""
    path = await consent_path_of(browser, party)
    await session.execute(update(School).where(School.id == party.school.id).values(require_totp=True))
    await session.commit()
    token = await csrf_from(browser, f"/login?next={path}")
    signed_in = await browser.post(
        "/login",
        data={
            "email": party.account.email,
            "password": party.account.password,
            "csrf_token": token,
            "next": path,
        },
    )
    assert signed_in.headers["location"] == f"/account/totp?next={path}"
    codes = await enrol_from(browser, signed_in.headers["location"], wrong_first=False)
    assert f'<a href="{path}">Continue to the app&#39;s request</a>' in codes.text
    assert (await browser.get(path)).status_code == 200
