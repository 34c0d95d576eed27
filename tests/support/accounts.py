"""School admins: accounts made directly, the sign-in pages driven as a browser would, and admin sessions
opened directly."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.accounts import service
from gateway.accounts.models import Admin
from gateway.accounts.sessions import COOKIE_NAME, Stage, open_session
from gateway.auth.passwords import CHEAP_TEST_PARAMETERS, PasswordHashing
from gateway.schools.models import School
from gateway.schools.service import create_school

PASSWORD = "Synthetic-Quill-4821"
# The issuer of setup and reset links, and the `browser` fixture's base URL (https: Secure cookies).
ISSUER = "https://gateway.test"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
_urns = itertools.count(800001)


@dataclass
class Account:
    admin: Admin
    school: School
    email: str
    password: str = PASSWORD


async def make_account(session: AsyncSession, email: str, *, school: School | None = None) -> Account:
    if school is None:
        school = await create_school(
            session,
            urn=str(next(_urns)),
            name=f"School of {email.split('@')[0]}",
            la_code="201",
            establishment_number="4001",
            phase="secondary",
        )
    admin, _link = await service.create_admin(session, school, email, issuer=ISSUER)
    await service.set_password(session, PasswordHashing(CHEAP_TEST_PARAMETERS), admin, PASSWORD)
    await session.commit()
    return Account(admin, school, email)


async def csrf_from(client: httpx.AsyncClient, path: str) -> str:
    response = await client.get(path)
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    match = CSRF_FIELD.search(response.text)
    assert match, f"no csrf_token on {path}"
    return match.group(1)


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    token = await csrf_from(client, "/login")
    return await client.post("/login", data={"email": email, "password": password, "csrf_token": token})


async def submit_password_form(
    client: httpx.AsyncClient, path: str, password: str, confirm: str | None = None
) -> httpx.Response:
    """Open a setup or reset link (`/setup?token=…`) and submit a new password on its form."""
    form = await client.get(path)
    match = CSRF_FIELD.search(form.text)
    assert match, form.text[:300]
    return await client.post(
        path.split("?")[0],
        data={
            "token": path.split("token=", 1)[1],
            "password": password,
            "password_confirm": password if confirm is None else confirm,
            "csrf_token": match.group(1),
        },
    )


@dataclass
class SignedIn:
    """A browser with a fully signed-in admin session, and that session's CSRF token."""

    client: httpx.AsyncClient
    csrf_token: str

    @property
    def csrf(self) -> dict[str, str]:
        return {"x-csrf-token": self.csrf_token}


async def session_cookie(session: AsyncSession, owner: Account, stage: Stage) -> tuple[str, str]:
    """A session opened directly at `stage`: (cookie value, csrf token)."""
    opened = await open_session(session, owner.admin, stage)
    await session.commit()
    return opened.token, opened.record.csrf_token


def set_session_cookie(client: httpx.AsyncClient, value: str) -> None:
    client.cookies.set(COOKIE_NAME, value, domain="gateway.test", path="/")
