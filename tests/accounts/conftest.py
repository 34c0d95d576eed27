"""Admins of two schools, and a browser-like client (cookies over https) for the sign-in pages."""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.accounts import service
from gateway.accounts.models import Admin
from gateway.auth.passwords import CHEAP_TEST_PARAMETERS, PasswordHashing
from gateway.schools.models import School
from gateway.schools.service import create_school
from tests.email.conftest import smtp_server  # noqa: F401 (a fixture these tests use)

PASSWORD = "Synthetic-Quill-4821"
ISSUER = "https://gateway.test"
_urns = itertools.count(800001)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


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


@pytest.fixture
async def account(session: AsyncSession) -> Account:
    return await make_account(session, "head.teacher@synthetic-school.example.org")


@pytest.fixture
async def other_account(session: AsyncSession) -> Account:
    return await make_account(session, "office@other-school.example.org")


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Keeps cookies like a browser; https so `__Host-` (Secure) cookies are sent back."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
        yield client


async def csrf_from(client: httpx.AsyncClient, path: str) -> str:
    response = await client.get(path)
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    match = _CSRF.search(response.text)
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
    match = _CSRF.search(form.text)
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
