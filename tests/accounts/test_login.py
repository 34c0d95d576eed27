"""Sign-in, lockout after exactly 10 wrong attempts, recovery by emailed link, no enumeration."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.accounts import service
from gateway.accounts.models import Admin, AdminSession
from gateway.accounts.pages import TYPED_EMAIL_COOKIE
from gateway.accounts.sessions import COOKIE_NAME
from gateway.audit.models import AuditEvent
from gateway.auth.passwords import CHEAP_TEST_PARAMETERS, PasswordCheck, PasswordHashing
from gateway.db.base import utcnow
from gateway.email.models import OutboxMessage
from tests.support.accounts import (
    ISSUER,
    PASSWORD,
    Account,
    csrf_from,
    make_account,
    sign_in,
    submit_password_form,
)


async def events_of(session: AsyncSession, account: Account) -> list[str]:
    rows = await session.scalars(
        select(AuditEvent.event_type)
        .where(AuditEvent.school_id == account.school.id)
        .order_by(AuditEvent.seq)
    )
    return list(rows)


async def test_sign_in_and_out(browser: httpx.AsyncClient, account: Account, session: AsyncSession) -> None:
    response = await sign_in(browser, account.email, PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    for attribute in ("Secure", "HttpOnly", "SameSite=lax", "Path=/"):
        assert attribute.lower() in cookie.lower()
    page = await browser.get("/account")
    assert page.status_code == 200
    assert account.email in page.text
    assert account.school.name in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    out = await browser.post("/logout", data={"csrf_token": token})
    assert out.status_code == 303
    assert (await browser.get("/account")).headers["location"] == "/login"
    assert "admin.login" in await events_of(session, account)


async def test_unknown_email_and_wrong_password_look_the_same(
    browser: httpx.AsyncClient, account: Account
) -> None:
    unknown = await sign_in(browser, "nobody@synthetic-school.example.org", PASSWORD)
    wrong = await sign_in(browser, account.email, "Wrong-Password-123")
    assert unknown.status_code == wrong.status_code == 303
    assert unknown.headers["location"] == wrong.headers["location"] == "/login?failed=true"
    for response in (unknown, wrong):  # no session; only the typed email, to fill the form again
        cookies = [cookie.split("=", 1)[0] for cookie in response.headers.get_list("set-cookie")]
        assert cookies == [TYPED_EMAIL_COOKIE]


class CountingHashing(PasswordHashing):
    """Counts the argon2id verifications a request asks for, real or dummy."""

    def __init__(self) -> None:
        super().__init__(CHEAP_TEST_PARAMETERS)
        self.verifications = 0

    def verify(self, stored_hash: str, password: str) -> PasswordCheck:
        self.verifications += 1
        return super().verify(stored_hash, password)

    def dummy_verify(self, password: str) -> PasswordCheck:
        self.verifications += 1
        return super().dummy_verify(password)


async def test_every_refused_sign_in_costs_one_password_hash(
    app: FastAPI, browser: httpx.AsyncClient, account: Account, session: AsyncSession
) -> None:
    """Unknown, wrong, locked, disabled or not yet set up: the same answer after one argon2id verification
    each (a dummy one when there is no hash to check), so the time spent on hashing tells nothing."""
    hashing = CountingHashing()
    app.state.password_hashing = hashing
    locked = await make_account(session, "locked@synthetic-school.example.org")
    disabled = await make_account(session, "disabled@synthetic-school.example.org")
    await session.execute(update(Admin).where(Admin.id == locked.admin.id).values(locked_at=utcnow()))
    await session.execute(update(Admin).where(Admin.id == disabled.admin.id).values(disabled_at=utcnow()))
    pending, _link = await service.create_admin(
        session, account.school, "pending@synthetic-school.example.org", issuer=ISSUER
    )
    await session.commit()
    attempts = [
        ("nobody@synthetic-school.example.org", PASSWORD),
        (account.email, "Wrong-Password-123"),
        (locked.email, PASSWORD),
        (disabled.email, PASSWORD),
        (pending.email, PASSWORD),
    ]
    for email, password in attempts:
        before = hashing.verifications
        response = await sign_in(browser, email, password)
        assert response.headers["location"] == "/login?failed=true", email
        assert hashing.verifications - before == 1, email


async def test_exactly_ten_wrong_attempts_lock_and_the_right_password_is_then_refused(
    browser: httpx.AsyncClient, account: Account, session: AsyncSession
) -> None:
    for attempt in range(1, 10):
        await sign_in(browser, account.email, f"Wrong-Password-{attempt}")
    await session.refresh(account.admin)
    assert account.admin.failed_attempts == 9
    assert account.admin.locked_at is None
    await sign_in(browser, account.email, "Wrong-Password-10")
    await session.refresh(account.admin)
    assert account.admin.locked_at is not None
    eleventh = await sign_in(browser, account.email, PASSWORD)
    assert eleventh.headers["location"] == "/login?failed=true"
    recorded = await events_of(session, account)
    assert recorded.count("admin.login_failed") == 10
    assert recorded.count("admin.locked_out") == 1
    mail = (
        await session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == account.email))
    ).all()
    assert len(mail) == 1
    assert "locked" in mail[0].body_text
    link = re.search(r"https?://[^/]+(/reset-password\?token=\S+)", mail[0].body_text)
    assert link

    new_password = "Fresh-Harbour-7713"
    done = await submit_password_form(browser, link.group(1), new_password)
    assert done.headers["location"] == "/login?notice=password_set"
    assert (await sign_in(browser, account.email, new_password)).headers["location"] == "/dashboard"
    assert "admin.password_reset" in await events_of(session, account)
    again = await browser.post(
        "/reset-password",
        data={
            "token": link.group(1).split("token=")[1],
            "password": "Another-Harbour-7714",
            "password_confirm": "Another-Harbour-7714",
            "csrf_token": await csrf_from(browser, "/login"),
        },
    )
    assert again.headers["location"] == "/reset-password?token="


async def test_missing_or_wrong_csrf_is_403(browser: httpx.AsyncClient, account: Account) -> None:
    await csrf_from(browser, "/login")
    missing = await browser.post("/login", data={"email": account.email, "password": PASSWORD})
    assert missing.status_code == 422 or missing.status_code == 403
    wrong = await browser.post(
        "/login", data={"email": account.email, "password": PASSWORD, "csrf_token": "x"}
    )
    assert wrong.status_code == 403
    browser.cookies.clear()
    no_cookie = await browser.post(
        "/login", data={"email": account.email, "password": PASSWORD, "csrf_token": "x"}
    )
    assert no_cookie.status_code == 403


async def test_session_fixation_is_prevented(
    browser: httpx.AsyncClient, account: Account, session: AsyncSession
) -> None:
    browser.cookies.set(COOKIE_NAME, "gw_ss_planted-by-an-attacker", domain="gateway.test")
    response = await sign_in(browser, account.email, PASSWORD)
    issued = response.cookies.get(COOKIE_NAME)
    assert issued
    assert issued != "gw_ss_planted-by-an-attacker"
    assert len((await session.scalars(select(AdminSession))).all()) == 1


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("x" * 300 + "@example.org", PASSWORD),
        ("head.teacher@synthetic-school.example.org", "p" * 1000),
        ("", ""),
        ("\u0000@example.org", "\u202e" + PASSWORD),
    ],
)
async def test_hostile_and_oversized_input(
    browser: httpx.AsyncClient, account: Account, email: str, password: str
) -> None:
    token = await csrf_from(browser, "/login")
    response = await browser.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code in {303, 422}
    if response.status_code == 303:
        assert response.headers["location"] == "/login?failed=true"


async def test_pages_carry_the_security_headers(browser: httpx.AsyncClient) -> None:
    response = await browser.get("/login")
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert "access-control-allow-origin" not in response.headers
    assert '<label for="email">' in response.text
    assert '<label for="password">' in response.text


async def test_sign_in_is_throttled_per_address(browser: httpx.AsyncClient, account: Account) -> None:
    token = await csrf_from(browser, "/login")
    statuses = []
    for _ in range(31):
        response = await browser.post(
            "/login", data={"email": account.email, "password": "nope", "csrf_token": token}
        )
        statuses.append(response.status_code)
    assert statuses[:30] == [303] * 30
    assert statuses[30] == 429


async def test_browsers_get_error_pages_not_json(browser: httpx.AsyncClient, account: Account) -> None:
    html = {"accept": "text/html,application/xhtml+xml"}
    await csrf_from(browser, "/login")
    forged = await browser.post(
        "/login", data={"email": account.email, "password": PASSWORD, "csrf_token": "forged"}, headers=html
    )
    assert forged.status_code == 403
    assert forged.headers["content-type"].startswith("text/html")
    assert "This form has expired" in forged.text
    assert (await browser.get("/login/totp", headers=html)).headers["location"] == "/login"
    api = await browser.post(
        "/login", data={"email": account.email, "password": PASSWORD, "csrf_token": "forged"}
    )
    assert api.headers["content-type"] == "application/problem+json"
