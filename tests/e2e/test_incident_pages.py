"""The school settings page and an incident notice in real Chromium against `gateway serve`: from the
Account page the admin sets the school's data protection contact; the operator opens an incident that
touched the school and notifies it (`gateway incident`); the notice is on the school's dashboard and in its
authorisation log.

Demo seed 23 (a school of its own in the browser tests' shared database).
Screenshots: docs/screenshots/settings.png, incident-notice.png (replaced only with
GATEWAY_UPDATE_SCREENSHOTS=1).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from playwright.async_api import Page

from gateway.db.base import utcnow
from tests.support.cli import gateway
from tests.support.demo import demo, sign_in_on_page
from tests.support.screenshots import shot
from tests.support.server import RunningServer

SEED = 23
SUMMARY = "A support laptop holding an export of connector keys was stolen from a car."


async def test_settings_then_an_incident_notice_in_chromium(
    page: Page, live_server: RunningServer, e2e_env: dict[str, str], tmp_path: Path
) -> None:
    data = demo(e2e_env, live_server, tmp_path, seed=SEED)
    await page.goto(f"{live_server.base_url}/login")
    await sign_in_on_page(page, data)
    await page.wait_for_url("**/dashboard")

    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Account", exact=True).click()
    await page.get_by_role("link", name="School settings").click()
    await page.wait_for_url("**/dashboard/settings")
    await page.get_by_label("Name").fill("Dana Protector")
    await page.get_by_label("Email address").fill("not an address")
    await page.get_by_role("button", name="Save settings").click()
    await page.get_by_text("There is a problem").wait_for()
    await page.get_by_label("Email address").fill("dpo@synthetic-trust.example.org")
    assert await page.get_by_label("Email the school's other admins").is_checked()
    await page.get_by_role("button", name="Save settings").click()
    await page.get_by_text("Settings saved.").wait_for()
    await shot(page, "settings.png")

    # The demo made the school's connector key just now: a key event inside the window.
    now = utcnow()
    opened = gateway(
        "incident",
        "open",
        "--summary",
        SUMMARY,
        "--detected-at",
        now.isoformat(),
        "--from",
        (now - timedelta(hours=1)).isoformat(),
        "--school",
        data["school_id"],
        "--by",
        "ops-e2e",
        "--json",
        env=e2e_env,
    )
    assert opened.returncode == 0, opened.stderr
    incident = json.loads(opened.stdout)
    assert [school["school_id"] for school in incident["schools"]] == [data["school_id"]]
    notified = gateway("incident", "notify", "--incident", incident["id"], "--json", env=e2e_env)
    assert notified.returncode == 0, notified.stderr
    assert json.loads(notified.stdout)["notices"][0]["dpo_contact"] is True

    await page.goto(f"{live_server.base_url}/dashboard")
    notice = page.get_by_role("region", name="An incident may have affected the school's data")
    await notice.get_by_text(SUMMARY).wait_for()
    await shot(page, "incident-notice.png")

    await page.goto(f"{live_server.base_url}/dashboard/log")
    entries = page.get_by_role("list", name="Events, newest first")
    await entries.get_by_text("The school was told of an incident that may have affected its data").wait_for()
