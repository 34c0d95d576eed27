"""Support access in real Chromium against `gateway serve`: the operator asks (`gateway support request`),
the admin — signed in with an authenticator app — sees who asks what and why, allows it for fewer hours
than asked, and withdraws it.

Demo seed 21 (a school of its own in the browser tests' shared database).
Screenshots: docs/screenshots/support-request.png, support-live.png (replaced only with
GATEWAY_UPDATE_SCREENSHOTS=1).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from playwright.async_api import Page
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from gateway.accounts.models import Admin
from gateway.db.engine import create_engine
from gateway.keys.keyring import Keyring
from gateway.schools.models import School
from gateway.settings import Settings
from tests.support.accounts import Account
from tests.support.cli import gateway
from tests.support.consent_flow import enrol_totp
from tests.support.demo import demo, sign_in_on_page
from tests.support.screenshots import shot
from tests.support.server import RunningServer

SEED = 21


async def test_allow_then_withdraw_support_access_in_chromium(
    page: Page, live_server: RunningServer, e2e_env: dict[str, str], tmp_path: Path
) -> None:
    data = demo(e2e_env, live_server, tmp_path, seed=SEED)
    engine = create_engine(Settings(database_url=e2e_env["GATEWAY_DATABASE_URL"]))
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            admin = await session.scalar(select(Admin).where(Admin.email == data["admin"]["email"]))
            school = (
                await session.scalar(select(School).where(School.id == admin.school_id)) if admin else None
            )
            assert admin is not None
            assert school is not None
            keyring = Keyring(base64.b64decode(e2e_env["GATEWAY_MASTER_KEY"]))
            totp = await enrol_totp(session, keyring, Account(admin, school, admin.email))
    finally:
        await engine.dispose()
    asked = gateway(
        "support", "request", "--school", data["school_id"], "--reason",
        "Their MIS sync says 3 pupils in 7A are missing; I need to compare the records",
        "--resources", "students,groups", "--hours", "4", "--by", "jo.support", "--json", env=e2e_env,
    )  # fmt: skip
    assert asked.returncode == 0, asked.stderr
    assert json.loads(asked.stdout)["state"] == "pending"

    await page.goto(f"{live_server.base_url}/login?next=/dashboard/support")
    await sign_in_on_page(page, data)
    await page.wait_for_url("**/login/totp**")
    await page.get_by_label("Code").fill(totp.now())
    await page.get_by_role("button", name="Continue").click()
    await page.wait_for_url("**/dashboard/support")
    await page.get_by_text("jo.support").first.wait_for()
    await page.get_by_label("Allow for").select_option("2")
    await shot(page, "support-request.png")
    await page.get_by_role("button", name="Allow", exact=True).click()
    await page.get_by_text("Approved.").wait_for()
    await page.get_by_role("button", name="Withdraw now").wait_for()
    await shot(page, "support-live.png")
    await page.get_by_role("button", name="Withdraw now").click()
    await page.get_by_text("Withdrawn:").wait_for()
    assert await page.get_by_role("button", name="Withdraw now").count() == 0
