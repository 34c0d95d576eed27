"""/docs runs the authorization-code flow (SPEC §8): Swagger UI's Authorize with the demo app, the admin
consents in the popup, and the token Swagger holds reads the data API."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.async_api import Page

from tests.support.demo import demo
from tests.support.server import RunningServer

SCHEME = "schoolAuthorization"


async def test_swagger_ui_gets_a_token_and_reads_pupils(
    page: Page, live_server: RunningServer, e2e_env: dict[str, str], tmp_path: Path
) -> None:
    data = demo(e2e_env, live_server, tmp_path, seed=13)
    app = data["app"]
    async with httpx.AsyncClient() as http:  # the developer adds /docs as a redirect URI, as the README says
        patched = await http.patch(
            f"{live_server.base_url}/developer/v1/apps/{app['client_id']}",
            headers={"authorization": f"Bearer {data['developer_key']}"},
            json={"redirect_uris": [*app["redirect_uris"], f"{live_server.base_url}/docs/oauth2-redirect"]},
        )
    assert patched.status_code == 200, patched.text

    await page.goto(f"{live_server.base_url}/docs")
    await page.get_by_role("button", name="Authorize").first.click()
    box = page.locator(".auth-container").filter(has_text=f"{SCHEME} (OAuth2")
    await box.locator("input[data-name='clientId']").fill(app["client_id"])
    await box.locator("input[data-name='clientSecret']").fill(app["client_secret"])
    for scope in ("school", "groups", "students.basic"):
        await box.locator(f"label[for='{scope}-authorizationCode-checkbox-{SCHEME}']").click()
    async with page.context.expect_page() as opened:
        await box.locator("button.authorize").click()
    popup = await opened.value
    await popup.wait_for_url("**/login?next=/consent/*")
    await popup.get_by_label("Email address").fill(data["admin"]["email"])
    await popup.get_by_label("Password").fill(data["admin"]["password"])
    await popup.get_by_role("button", name="Sign in").click()
    await popup.wait_for_url("**/consent/*")
    await popup.get_by_role("button", name="Allow access").click()
    await box.get_by_text("Authorized", exact=False).first.wait_for()
    assert await box.locator(".errors").count() == 0

    status, body = await page.evaluate(
        """async (scheme) => {
            const token = window.ui.authSelectors.authorized().toJS()[scheme].token.access_token;
            const headers = {authorization: 'Bearer ' + token};
            const answer = await fetch('/api/v1/students?limit=2', {headers});
            return [answer.status, await answer.json()];
        }""",
        SCHEME,
    )
    assert status == 200
    assert len(body["data"]) == 2
    assert "dob" not in body["data"][0]  # only the scopes ticked in Swagger UI were granted
