"""An app asking a school with a few pupils and groups, and helpers to walk authorize → consent.

Everything is committed inside the test's outer transaction (rolled back afterwards), like the rest of the
suite. The helpers drive the pages as a browser would, through the app (httpx ASGITransport).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pyotp
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.accounts import service as accounts
from gateway.accounts.models import Admin
from gateway.apps import service as apps
from gateway.apps.models import App, AuthMethod
from gateway.keys.keyring import Keyring
from gateway.mis.ingest import apply_batch
from gateway.mis.validation import validate_batch
from gateway.schools.models import School
from tests.support import records
from tests.support.accounts import CSRF_FIELD, Account, csrf_from, make_account
from tests.support.apps import REDIRECT_URI, draft
from tests.support.developers import DeveloperWithKey, make_developer
from tests.support.http import FORM
from tests.support.pkce import Pkce

TODAY = date(2026, 11, 26)


@dataclass
class Party:
    """A registered app, a school with pupils and groups, and its admin."""

    developer: DeveloperWithKey
    app: App
    secret: str | None
    account: Account
    keyring: Keyring

    @property
    def school(self) -> School:
        return self.account.school


async def add_records(session: AsyncSession, keyring: Keyring, school: School) -> None:
    """Twelve pupils in years 7 and 8, two year groups, two registration groups and one class."""
    pupils = records.students(12)
    for index, pupil in enumerate(pupils):
        pupil["year_code"] = "7" if index < 6 else "8"
    groups = [
        records.group("yr7", [p["id"] for p in pupils[:6]], type="year", name="Year 7"),
        records.group("yr8", [p["id"] for p in pupils[6:]], type="year", name="Year 8"),
        records.group("7a", [p["id"] for p in pupils[:6]], name="7A", code="7A"),
        records.group("8b", [p["id"] for p in pupils[6:]], name="8B", code="8B"),
        records.group("7ma1", [p["id"] for p in pupils[:3]], type="teaching", name="7 Maths set 1"),
        records.group("house-red", [p["id"] for p in pupils], type="house", name="Red house"),
    ]
    for resource, batch in (("students", pupils), ("groups", groups)):
        await apply_batch(session, keyring, school, validate_batch(resource, batch, [], today=TODAY))


async def make_party(
    session: AsyncSession,
    keyring: Keyring,
    email: str,
    *,
    method: AuthMethod = AuthMethod.CLIENT_SECRET_BASIC,
) -> Party:
    developer = await make_developer(session, keyring, "Synthetic Apps Ltd", f"dev.{email}")
    app, secret, _webhook_secret = await apps.register(
        session, keyring, developer.developer.id, draft(token_endpoint_auth_method=method)
    )
    account = await make_account(session, email)
    await add_records(session, keyring, account.school)
    await session.commit()
    return Party(developer, app, secret, account, keyring)


async def enrol_totp(session: AsyncSession, keyring: Keyring, account: Account) -> pyotp.TOTP:
    secret = await accounts.start_totp_enrolment(session, keyring, account.admin)
    totp = pyotp.TOTP(secret)
    assert await accounts.confirm_totp_enrolment(session, keyring, account.admin, totp.now())
    # Enrolment used this step's code; let the sign-in that follows use it again.
    await session.execute(update(Admin).where(Admin.id == account.admin.id).values(totp_last_step=0))
    await session.commit()
    return totp


def authorize_url(party: Party, pkce: Pkce | None = None, **changes: str | None) -> str:
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": party.app.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "school groups students.basic",
        "state": "state-" + secrets.token_hex(4),
        "code_challenge": (pkce or Pkce()).challenge,
        "code_challenge_method": "S256",
    }
    params.update(changes)
    return "/oauth/authorize?" + urlencode({k: v for k, v in params.items() if v is not None})


def query_of(location: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


async def sign_in(
    browser: httpx.AsyncClient, account: Account, *, next_path: str, totp: pyotp.TOTP | None = None
) -> None:
    token = await csrf_from(browser, f"/login?next={next_path}")
    response = await browser.post(
        "/login",
        data={"email": account.email, "password": account.password, "csrf_token": token, "next": next_path},
    )
    if totp is not None:
        assert response.headers["location"] == f"/login/totp?next={next_path}"
        token = await csrf_from(browser, response.headers["location"])
        response = await browser.post(
            "/login/totp", data={"code": totp.now(), "csrf_token": token, "next": next_path}
        )
    assert response.status_code == 303, response.text[:300]
    assert response.headers["location"] == next_path


async def open_consent(
    browser: httpx.AsyncClient, party: Party, url: str, *, totp: pyotp.TOTP | None = None
) -> tuple[str, httpx.Response]:
    """Follow an authorize URL to the consent page, signing in when asked; (consent path, page)."""
    response = await browser.get(url)
    assert response.status_code == 302, response.text[:500]
    consent_path = response.headers["location"]
    assert consent_path.startswith("/consent/")
    page = await browser.get(consent_path)
    if page.status_code == 303:
        assert page.headers["location"] == f"/login?next={consent_path}"
        await sign_in(browser, party.account, next_path=consent_path, totp=totp)
        page = await browser.get(consent_path)
    assert page.status_code == 200, page.text[:500]
    return consent_path, page


def csrf_of(page: httpx.Response) -> str:
    match = CSRF_FIELD.search(page.text)
    assert match
    return match.group(1)


async def decide(
    browser: httpx.AsyncClient, consent_path: str, page: httpx.Response, fields: list[tuple[str, str]]
) -> httpx.Response:
    body = [("csrf_token", csrf_of(page)), *fields]
    return await browser.post(consent_path, content=urlencode(body), headers=FORM)
