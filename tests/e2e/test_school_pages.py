"""The school admin's pages in real Chromium against `gateway serve` (issue 13, item 3): the home page,
signing in without a `next` (Connected apps), every link of the navigation bar, then the demo app
approved; a pupil found by name whose page lists the app that can see them and its read of them; the app
narrowed and revoked, and all three on the authorisation log page; the app's read on the data accessed
page; the ended connection; an unknown page's 404.

Demo seed 17 (a school of its own in the browser tests' shared database).
Screenshots: docs/screenshots/home.png, pupils-search.png, pupil.png, dashboard-log.png,
dashboard-log-filtered.png, dashboard-data.png, dashboard-ended.png, not-found.png (replaced only with
GATEWAY_UPDATE_SCREENSHOTS=1).
"""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.async_api import Page

from tests.e2e.test_dashboard import access_token, authorize
from tests.support.demo import CALLBACK, answer_callbacks, callback_query, demo, sign_in_on_page
from tests.support.screenshots import shot
from tests.support.server import RunningServer

SEED = 17
APP = "Demo homework planner"
NAV = {
    "Connected apps": "/dashboard",
    "Authorisation log": "/dashboard/log",
    "Data accessed": "/dashboard/data",
    "Pupils": "/dashboard/pupils",
    "Account": "/account",
}


async def go(page: Page, link: str) -> None:
    """Follow a link of the navigation bar and check it marks the page it leads to as the current one."""
    nav = page.get_by_role("navigation", name="Main")
    await nav.get_by_role("link", name=link, exact=True).click()
    await page.wait_for_url(f"**{NAV[link]}")
    assert await nav.locator('[aria-current="page"]').inner_text() == link


async def test_school_admin_pages_in_chromium(
    page: Page, live_server: RunningServer, e2e_env: dict[str, str], tmp_path: Path
) -> None:
    data = demo(e2e_env, live_server, tmp_path, seed=SEED)
    await answer_callbacks(page)

    # The home page says what the gateway is, and leads to sign-in and the API documentation.
    await page.goto(f"{live_server.base_url}/")
    await page.get_by_role("link", name="API documentation").wait_for()
    await shot(page, "home.png")
    await page.get_by_role("link", name="Sign in").click()
    await page.wait_for_url("**/login")
    await sign_in_on_page(page, data)
    await page.wait_for_url("**/dashboard")  # no `next`: Connected apps

    for link in ("Authorisation log", "Data accessed", "Pupils", "Account", "Connected apps"):
        await go(page, link)
    await page.get_by_text("No app has read any").count()

    # The app asks; the admin (signed in already) allows two optional scopes; the app reads pupils.
    url, verifier = authorize(
        live_server, data, f"{data['app']['required_scopes']} students.demographics attendance.summaries"
    )
    await page.goto(url)
    await page.wait_for_url("**/consent/*")
    await page.get_by_label("Pupils: date of birth and gender").check()
    await page.get_by_label("Attendance: yearly totals").check()
    await page.get_by_role("button", name="Allow access").click()
    await page.wait_for_url(CALLBACK + "?*")
    token = await access_token(live_server, data, callback_query(page)["code"], verifier)
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        read = await client.get("/api/v1/students", headers={"authorization": f"Bearer {token}"})
    assert read.status_code == 200, read.text[:300]
    pupils = len(read.json()["data"])
    assert pupils > 0

    # A pupil's page, found by name: the app can see them now, and read them once.
    first = read.json()["data"][0]
    await page.goto(f"{live_server.base_url}/dashboard")
    await go(page, "Pupils")
    await page.get_by_label("Name or UPN").fill(f"{first['first_name']} {first['last_name']}")
    await page.get_by_role("button", name="Find").click()
    await page.wait_for_url("**/dashboard/pupils?q=*")
    await shot(page, "pupils-search.png")
    await page.get_by_role("link", name=f"{first['last_name']}, {first['first_name']}").first.click()
    await page.wait_for_url(f"**/dashboard/pupils/{first['id']}")
    now = page.get_by_role("region", name="Apps that can see this pupil now")
    await now.get_by_role("heading", name=APP).wait_for()
    assert "Pupils: date of birth and gender" in await now.inner_text()
    included = page.get_by_role("region", name="Requests that included this pupil")
    row = included.get_by_role("row", name=APP)
    assert await row.count() == 1
    assert "Pupils: basic details" in await row.inner_text()
    assert f"\t{pupils}" in await row.inner_text()  # records in that answer
    await shot(page, "pupil.png")

    # Narrow (stop sharing dates of birth), then revoke, from Connected apps.
    await page.goto(f"{live_server.base_url}/dashboard")
    await page.get_by_role("link", name="Review, narrow or revoke").click()
    await page.wait_for_url("**/dashboard/grants/*")
    await page.get_by_label("Stop sharing “Pupils: date of birth and gender”").check()
    await page.get_by_role("button", name="Save: share less").click()
    await page.get_by_text("The app sees less from its very next request").wait_for()
    await page.get_by_role("link", name="Revoke access…").click()
    await page.get_by_role("button", name="Yes, revoke access").click()
    await page.wait_for_url("**/dashboard?notice=revoked")

    # The authorisation log tells all three, newest first, in plain English, in UK time.
    await go(page, "Authorisation log")
    entries = page.locator("ol.log > li")
    said = await entries.all_inner_texts()
    email = data["admin"]["email"]
    revoked = next(i for i, text in enumerate(said) if f"{email} revoked {APP}'s access" in text)
    narrowed = next(i for i, text in enumerate(said) if f"{email} narrowed what {APP} can see" in text)
    allowed = next(i for i, text in enumerate(said) if f"{email} allowed {APP} to see" in text)
    assert revoked < narrowed < allowed, said
    assert "no longer Pupils: date of birth and gender" in said[narrowed]
    assert "Attendance: yearly totals" in said[allowed]
    assert said[revoked].split("\n")[0].endswith((" GMT", " BST"))
    await shot(page, "dashboard-log.png")
    await page.get_by_label("What happened").select_option(label="Access revoked")
    await page.get_by_label("App", exact=True).select_option(label=APP)
    await page.get_by_role("button", name="Show").click()
    await page.wait_for_url("**/dashboard/log?type=grant.revoked*")
    only = await entries.all_inner_texts()
    assert len(only) == 1
    assert f"{email} revoked {APP}'s access" in only[0]
    await shot(page, "dashboard-log-filtered.png")

    # Data accessed: the app's read of pupils, its fields in plain words, how many records.
    await go(page, "Data accessed")
    await page.get_by_role("heading", name=APP).wait_for()
    row = page.get_by_role("row", name="Pupils")
    assert "Pupils: basic details" in await row.inner_text()
    assert "first name" in await row.inner_text()
    assert f"\t{pupils}\t1\t" in await row.inner_text()
    await shot(page, "dashboard-data.png")

    # Ended connections, from Connected apps: who ended it, how, when.
    await go(page, "Connected apps")
    await page.get_by_role("link", name="Ended connections").click()
    await page.wait_for_url("**/dashboard/ended")
    await page.get_by_role("heading", name=APP).wait_for()
    await page.get_by_text("Revoked by an admin of the school").wait_for()
    await shot(page, "dashboard-ended.png")

    # An unknown page is a page too; then sign out from the navigation bar.
    missing = await page.goto(f"{live_server.base_url}/dashboard/no-such-page")
    assert missing is not None
    assert missing.status == 404
    await page.get_by_role("heading", name="Page not found").wait_for()
    await shot(page, "not-found.png")
    await page.goto(f"{live_server.base_url}/account")
    await page.get_by_role("navigation", name="Main").get_by_role("button", name="Sign out").click()
    await page.wait_for_url("**/login?notice=signed_out")
