"""The deletion page in real Chromium against `gateway serve`: from the Account page, the admin asks for the
school's data to be deleted with their password, sees it scheduled with its day, then cancels it.

Demo seed 19 (a school of its own in the browser tests' shared database).
Screenshots: docs/screenshots/deletion.png, deletion-scheduled.png (replaced only with
GATEWAY_UPDATE_SCREENSHOTS=1).
"""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page

from tests.support.demo import demo, sign_in_on_page
from tests.support.screenshots import shot
from tests.support.server import RunningServer

SEED = 19


async def test_ask_for_deletion_then_cancel_in_chromium(
    page: Page, live_server: RunningServer, e2e_env: dict[str, str], tmp_path: Path
) -> None:
    data = demo(e2e_env, live_server, tmp_path, seed=SEED)
    await page.goto(f"{live_server.base_url}/login")
    await sign_in_on_page(page, data)
    await page.wait_for_url("**/dashboard")

    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Account", exact=True).click()
    await page.get_by_role("link", name="Delete the school's data").click()
    await page.wait_for_url("**/dashboard/deletion")
    await page.get_by_role("button", name="Delete the school's data").wait_for()
    await shot(page, "deletion.png")

    await page.get_by_label("Your password").fill("not the password 1")
    await page.get_by_role("button", name="Delete the school's data").click()
    await page.get_by_text("That password or code is not right").wait_for()

    await page.get_by_label("Your password").fill(data["admin"]["password"])
    await page.get_by_role("button", name="Delete the school's data").click()
    await page.get_by_text("Deletion requested.").wait_for()
    await page.get_by_text("Deletion of all the school's data by the end of").wait_for()
    await shot(page, "deletion-scheduled.png")

    await page.get_by_role("button", name="Cancel the deletion").click()
    await page.get_by_text("Deletion cancelled.").wait_for()
    assert await page.get_by_role("button", name="Cancel the deletion").count() == 0
