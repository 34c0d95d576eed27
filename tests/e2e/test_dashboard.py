"""The dashboard in real Chromium against `gateway serve`: the demo app connects through the consent page,
the admin sees it on the dashboard, narrows what it sees, then revokes it after a confirmation page — and
the app's access token is refused on its very next request.

Demo seed 11 (a school of its own in the browser tests' shared database).
Screenshots: docs/screenshots/dashboard*.png (replaced only with GATEWAY_UPDATE_SCREENSHOTS=1).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from playwright.async_api import Page

from tests.support.demo import CALLBACK, answer_callbacks, callback_query, demo, sign_in_on_page
from tests.support.pkce import Pkce
from tests.support.screenshots import shot
from tests.support.server import RunningServer

SEED = 11
OPTIONAL = "students.demographics attendance.summaries"


def authorize(server: RunningServer, data: dict[str, Any], scope: str) -> tuple[str, str]:
    """An authorize URL for the demo app and its PKCE verifier."""
    pkce = Pkce()
    query = {
        "response_type": "code",
        "client_id": data["app"]["client_id"],
        "redirect_uri": CALLBACK,
        "scope": scope,
        "state": "dashboard",
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        "school_id": data["school_id"],
    }
    return f"{server.base_url}/oauth/authorize?{urlencode(query)}", pkce.verifier


async def access_token(server: RunningServer, data: dict[str, Any], code: str, verifier: str) -> str:
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        response = await client.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": CALLBACK,
                "code_verifier": verifier,
            },
            auth=(data["app"]["client_id"], data["app"]["client_secret"]),
        )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    assert f" {OPTIONAL.split()[0]}" in f" {response.json()['scope']}"
    return token


async def find_and_hide_a_pupil_without_javascript(page: Page) -> str:
    """The pupil picker in a window with JavaScript turned off (the same signed-in admin): Find sends the
    form back and the page comes again with the choices kept and only matching pupils listed; tick the
    first and save. Its label."""
    assert page.context.browser is not None
    context = await page.context.browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    try:
        await context.add_cookies(await page.context.cookies())
        plain = await context.new_page()
        await plain.goto(page.url)
        await plain.get_by_label("Only pupils in the groups ticked below").check()
        await plain.get_by_label("Year 7", exact=True).check()
        rows = plain.locator(".pupil-list .check")
        total = await rows.count()
        last_name = (await rows.nth(total // 3).locator("label").inner_text()).split(",")[0]
        await plain.get_by_label("Find pupils by name or year").fill(last_name)
        async with plain.expect_navigation():
            await plain.get_by_label("Find pupils by name or year").press("Enter")  # presses Find
        listed = plain.locator(".pupil-list .check:not([hidden])")
        labels = await listed.locator("label").all_inner_texts()
        assert 0 < len(labels) < total
        assert all(last_name.lower() in label.lower() for label in labels), labels
        assert await plain.get_by_label("Year 7", exact=True).is_checked()  # the choices are kept
        await listed.first.locator("input").check()
        label: str = await listed.first.locator("label").inner_text()
        await shot(plain, "dashboard-pupil-search.png")
        async with plain.expect_navigation():
            await plain.get_by_role("button", name="Save: share less").click()
        await plain.get_by_text("The app sees less from its very next request").wait_for()
        assert await plain.locator(".hidden-pupils li").all_inner_texts() == [label]
        return label
    finally:
        await context.close()


async def test_dashboard_narrow_and_revoke_in_chromium(
    page: Page, live_server: RunningServer, e2e_env: dict[str, str], tmp_path: Path
) -> None:
    data = demo(e2e_env, live_server, tmp_path, seed=SEED)
    app_name = "Demo homework planner"
    await answer_callbacks(page)

    # The app connects through the real consent page: required scopes and two optional ones.
    url, verifier = authorize(live_server, data, f"{data['app']['required_scopes']} {OPTIONAL}")
    await page.goto(url)
    await page.wait_for_url("**/login?next=/consent/*")
    await sign_in_on_page(page, data)
    await page.wait_for_url("**/consent/*")
    await page.get_by_label("Pupils: date of birth and gender").check()
    await page.get_by_label("Attendance: yearly totals").check()
    await page.get_by_role("button", name="Allow access").click()
    await page.wait_for_url(CALLBACK + "?*")
    token = await access_token(live_server, data, callback_query(page)["code"], verifier)

    # From the account page to the dashboard by the navigation bar: the app, what it sees in plain English,
    # whole school.
    await page.goto(f"{live_server.base_url}/account")
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Connected apps").click()
    await page.wait_for_url("**/dashboard")
    await page.get_by_role("heading", name=app_name).wait_for()
    await page.get_by_text("Pupils: date of birth and gender").wait_for()
    assert await page.get_by_text("The whole school").count() == 1
    await shot(page, "dashboard.png")

    # Narrow: only Year 7 from now on, less one pupil found by name, without JavaScript; then (with it)
    # stop sharing dates of birth.
    await page.get_by_role("link", name="Review, narrow or revoke").click()
    await page.wait_for_url("**/dashboard/grants/*")
    grant_path = page.url.removeprefix(live_server.base_url)
    hidden_label = await find_and_hide_a_pupil_without_javascript(page)
    await page.reload()
    await page.get_by_label("Stop sharing “Pupils: date of birth and gender”").check()
    await page.get_by_role("button", name="Save: share less").click()
    await page.wait_for_url(f"**{grant_path}?notice=narrowed")
    await page.get_by_text("The app sees less from its very next request").wait_for()
    assert await page.get_by_label("Stop sharing “Pupils: date of birth and gender”").count() == 0
    assert await page.get_by_label("Year 7", exact=True).is_checked()
    assert await page.locator(".hidden-pupils li").all_inner_texts() == [hidden_label]
    await shot(page, "dashboard-grant.png")

    # Revoke, after a confirmation page that says what will happen.
    await page.get_by_role("link", name="Revoke access…").click()
    await page.wait_for_url(f"**{grant_path}/revoke")
    await page.get_by_text("Are you sure?").wait_for()
    await shot(page, "dashboard-revoke.png")
    await page.get_by_role("button", name="Yes, revoke access").click()
    await page.wait_for_url("**/dashboard?notice=revoked")
    await page.get_by_text("Access revoked.").wait_for()
    assert await page.get_by_role("heading", name=app_name).count() == 0

    # The app's token is refused on its very next request.
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        refused = await client.post("/api/v1/app/disconnect", headers={"authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    assert re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+", token)
