"""TOTP enrolment and the second sign-in step: replay refused, wrong codes count, recovery codes once."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pyotp
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.accounts.models import Admin
from gateway.audit.models import AuditEvent
from gateway.schools.models import School
from tests.support.accounts import PASSWORD, Account, csrf_from, sign_in

_SECRET = re.compile(r'<code class="secret">([A-Z2-7 ]+)</code>')


async def enrol(browser: httpx.AsyncClient) -> tuple[str, list[str]]:
    page = await browser.get("/account/totp")
    assert page.status_code == 200, page.text[:300]
    assert "<svg" in page.text
    assert "<script" not in page.text
    secret = _SECRET.search(page.text).group(1).replace(" ", "")  # type: ignore[union-attr]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    wrong = await browser.post("/account/totp", data={"code": "000000", "csrf_token": token})
    assert wrong.headers["location"] == "/account/totp?failed=true"
    done = await browser.post("/account/totp", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", done.text)
    assert len(codes) == 10
    return secret, codes


async def sign_out(browser: httpx.AsyncClient) -> None:
    token = await csrf_from(browser, "/account")
    await browser.post("/logout", data={"csrf_token": token})


async def rewind_last_step(session: AsyncSession, account: Account) -> None:
    """Let the next test code be accepted without waiting 30 s for a new time step."""
    await session.execute(update(Admin).where(Admin.id == account.admin.id).values(totp_last_step=0))
    await session.commit()


async def test_enrol_then_sign_in_with_a_code(
    browser: httpx.AsyncClient, account: Account, session: AsyncSession
) -> None:
    await sign_in(browser, account.email, PASSWORD)
    secret, _codes = await enrol(browser)
    assert "Authenticator app, set up" in (await browser.get("/account")).text
    await sign_out(browser)
    await rewind_last_step(session, account)

    first = await sign_in(browser, account.email, PASSWORD)
    assert first.headers["location"] == "/login/totp"
    assert (await browser.get("/account")).headers["location"] == "/login"  # not signed in yet
    token = await csrf_from(browser, "/login/totp")
    code = pyotp.TOTP(secret).now()
    ok = await browser.post("/login/totp", data={"code": code, "csrf_token": token})
    assert ok.headers["location"] == "/dashboard"
    assert (await browser.get("/account")).status_code == 200
    events = list(
        await session.scalars(select(AuditEvent.event_type).where(AuditEvent.school_id == account.school.id))
    )
    assert "admin.totp_enrolled" in events

    await sign_out(browser)
    await sign_in(browser, account.email, PASSWORD)
    token = await csrf_from(browser, "/login/totp")
    replay = await browser.post("/login/totp", data={"code": code, "csrf_token": token})
    assert replay.headers["location"] == "/login/totp?failed=true"
    old = pyotp.TOTP(secret).at(datetime.now(UTC) - timedelta(minutes=5))
    stale = await browser.post("/login/totp", data={"code": old, "csrf_token": token})
    assert stale.headers["location"] == "/login/totp?failed=true"
    for bad in ("12345", "abcdef", "1234567", "x" * 500):
        response = await browser.post("/login/totp", data={"code": bad, "csrf_token": token})
        assert response.status_code in {303, 422}
    await session.refresh(account.admin)
    assert account.admin.failed_attempts >= 2


async def test_recovery_codes_work_once(browser: httpx.AsyncClient, account: Account) -> None:
    await sign_in(browser, account.email, PASSWORD)
    _secret, codes = await enrol(browser)
    await sign_out(browser)
    await sign_in(browser, account.email, PASSWORD)
    token = await csrf_from(browser, "/login/totp")
    used = await browser.post("/login/totp", data={"code": codes[3].upper(), "csrf_token": token})
    assert used.headers["location"] == "/dashboard"
    await sign_out(browser)
    await sign_in(browser, account.email, PASSWORD)
    token = await csrf_from(browser, "/login/totp")
    again = await browser.post("/login/totp", data={"code": codes[3], "csrf_token": token})
    assert again.headers["location"] == "/login/totp?failed=true"


async def test_a_school_can_require_totp(
    browser: httpx.AsyncClient, account: Account, session: AsyncSession
) -> None:
    await session.execute(update(School).where(School.id == account.school.id).values(require_totp=True))
    await session.commit()
    response = await sign_in(browser, account.email, PASSWORD)
    assert response.headers["location"] == "/account/totp"
    assert (await browser.get("/account")).headers["location"] == "/login"
    page = await browser.get("/account/totp")
    assert "requires a second factor" in page.text
    await enrol(browser)
    assert (await browser.get("/account")).status_code == 200


async def test_csrf_on_signed_in_forms(browser: httpx.AsyncClient, account: Account) -> None:
    await sign_in(browser, account.email, PASSWORD)
    await browser.get("/account/totp")
    for path, data in (
        ("/account/totp", {"code": "123456"}),
        ("/logout", {}),
        (
            "/account/password",
            {
                "current_password": PASSWORD,
                "password": "New-Lantern-4410",
                "password_confirm": "New-Lantern-4410",
            },
        ),
    ):
        response = await browser.post(path, data={**data, "csrf_token": "forged"})
        assert response.status_code == 403, path


async def test_a_session_belongs_to_its_admin_and_school(
    browser: httpx.AsyncClient, account: Account, other_account: Account
) -> None:
    await sign_in(browser, other_account.email, PASSWORD)
    page = await browser.get("/account")
    assert other_account.school.name in page.text
    assert account.school.name not in page.text
    assert account.email not in page.text
