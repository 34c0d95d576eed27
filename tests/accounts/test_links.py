"""Setup and reset links: single use, expiring, tamper-evident; a weak password leaves the link usable."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.accounts import service
from gateway.accounts.models import AccountLink
from gateway.db.base import utcnow
from gateway.schools.service import create_school
from tests.support.accounts import ISSUER, sign_in, submit_password_form

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
async def setup_link(session: AsyncSession) -> tuple[str, str]:
    school = await create_school(
        session,
        urn="810001",
        name="Setup Academy",
        la_code="201",
        establishment_number="4001",
        phase="secondary",
    )
    _admin, url = await service.create_admin(
        session, school, "First.Admin@Setup-Academy.example.org", issuer=ISSUER
    )
    await session.commit()
    return url.removeprefix(ISSUER), url.split("token=")[1]


async def test_setup_link_sets_the_first_password(
    browser: httpx.AsyncClient, setup_link: tuple[str, str]
) -> None:
    path, _token = setup_link
    assert path.startswith("/setup?token=gw_su_")
    weak = await submit_password_form(browser, path, "password1")
    assert weak.headers["location"].startswith("/setup?token=")
    assert "problem=password_too_common" in weak.headers["location"]
    shown = await browser.get(weak.headers["location"])
    assert "too common" in shown.text
    mismatch = await submit_password_form(browser, path, "Orchard-Lamp-5521", "Orchard-Lamp-5522")
    assert "problem=mismatch" in mismatch.headers["location"]
    done = await submit_password_form(browser, path, "Orchard-Lamp-5521")
    assert done.headers["location"] == "/login?notice=password_set"
    signed_in = await sign_in(browser, "first.admin@setup-academy.example.org", "Orchard-Lamp-5521")
    assert signed_in.headers["location"] == "/dashboard"
    reused = await browser.get(path)
    assert reused.status_code == 400
    assert "not valid" in reused.text


async def test_expired_and_tampered_links(
    browser: httpx.AsyncClient, setup_link: tuple[str, str], session: AsyncSession
) -> None:
    path, _token = setup_link
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert (await browser.get(tampered)).status_code == 400
    assert (await browser.get("/setup?token=" + "x" * 101)).status_code in {400, 422}
    assert (
        await browser.get("/reset-password" + path.removeprefix("/setup"))
    ).status_code == 400  # wrong purpose
    await session.execute(update(AccountLink).values(expires_at=utcnow() - timedelta(seconds=1)))
    await session.commit()
    assert (await browser.get(path)).status_code == 400
