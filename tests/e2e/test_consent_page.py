"""The consent page in real Chromium against `gateway serve`: the demo app asks the demo school.

Required, optional and sensitive scopes, the audience, incremental consent and deny. The app's redirect
URI (http://127.0.0.1:8765/callback) is answered by Playwright, so the test reads what the app would get.
Screenshots: docs/screenshots/consent*.png and login-for-app.png (replaced only with
GATEWAY_UPDATE_SCREENSHOTS=1).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pyotp
from playwright.async_api import Page

from tests.support.demo import CALLBACK, answer_callbacks, callback_query, demo
from tests.support.pkce import Pkce
from tests.support.screenshots import shot
from tests.support.server import RunningServer


def authorize_url(server: RunningServer, demo_data: dict[str, Any], scope: str, state: str) -> str:
    pkce = Pkce()
    query = {
        "response_type": "code",
        "client_id": demo_data["app"]["client_id"],
        "redirect_uri": CALLBACK,
        "scope": scope,
        "state": state,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        "school_id": demo_data["school_id"],
    }
    return f"{server.base_url}/oauth/authorize?{urlencode(query)}"


async def test_consent_in_chromium(
    page: Page, live_server: RunningServer, e2e_env: dict[str, str], tmp_path: Path
) -> None:
    data = demo(e2e_env, live_server, tmp_path)
    await answer_callbacks(page)
    # The page's policy must let each decision's 303 reach the app: Chromium reports every violation.
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security" in message.text else None,
    )
    everything = f"{data['app']['required_scopes']} {data['app']['optional_scopes']}"

    # 1. Sign in on the way to the consent page; share required + one optional scope with Year 7 only.
    await page.goto(authorize_url(live_server, data, everything, "state-one"))
    await page.wait_for_url("**/login?next=/consent/*")
    asking = page.get_by_role("note")
    assert re.fullmatch(
        r"Demo homework planner \(by .+\) is asking for access to your school's data\. .*",
        await asking.inner_text(),
    )
    # A wrong password: the form comes back with the email kept and the app still named.
    await page.get_by_label("Email address").fill(data["admin"]["email"])
    await page.get_by_label("Password").fill("Not-The-Password-1")
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/login?failed=true&next=/consent/*")
    assert await page.get_by_label("Email address").input_value() == data["admin"]["email"]
    assert await page.get_by_label("Password").input_value() == ""
    assert await asking.is_visible()
    await shot(page, "login-for-app.png")
    await page.get_by_label("Password").fill(data["admin"]["password"])
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/consent/*")
    await page.get_by_role("heading", name="Demo homework planner").wait_for()
    policy = (await page.request.get(page.url)).headers["content-security-policy"]
    assert policy == (
        "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self' http://127.0.0.1:8765"
    )
    sen = page.get_by_role("checkbox", name=re.compile(r"^Pupils: special educational needs"))
    assert not await sen.is_checked()
    assert await page.get_by_text("Sensitive", exact=True).count() >= 1
    assert (
        await page.get_by_text("only an admin who signs in with an authenticator app", exact=False).count()
        == 1
    )
    await shot(page, "consent.png")

    # A sensitive scope without an authenticator app is refused, and the choices are kept.
    await page.get_by_label("Pupils: date of birth and gender").check()
    await sen.check()
    await page.get_by_label(
        re.compile("I confirm the school agrees to share “Pupils: special educational")
    ).check()
    await page.get_by_role("button", name="Allow access").click()
    await page.get_by_text("There is a problem").wait_for()
    assert await page.get_by_label("Pupils: date of birth and gender").is_checked()
    await sen.uncheck()
    await page.get_by_label(
        re.compile("I confirm the school agrees to share “Pupils: special educational")
    ).uncheck()
    await page.get_by_label("Only pupils in the groups ticked below").check()
    await page.get_by_label("Year 7", exact=True).check()
    # Hide one pupil: type part of a name, the script lists only the pupils who match, tick one.
    hidden_label = await hide_a_pupil(page)
    await shot(page, "consent-pupil-search.png")
    await page.get_by_role("button", name="Allow access").click()
    await page.wait_for_url(CALLBACK + "?*")
    first = callback_query(page)
    assert first["state"] == "state-one"
    assert first["iss"] == live_server.base_url
    assert re.fullmatch(r"gw_ac_[A-Za-z0-9_-]{43}", first["code"])
    await page.goto(f"{live_server.base_url}/dashboard")
    await page.get_by_role("link", name="Review, narrow or revoke").click()
    await page.get_by_role("heading", name="Hidden from the app").wait_for()
    assert await page.locator(".hidden-pupils li").all_inner_texts() == [hidden_label]

    # 2. Ask again for the sensitive scope (incremental consent): set up an authenticator app from the
    # page's link, and come back to the same request.
    await page.goto(authorize_url(live_server, data, "students.sen", "state-two"))
    await page.wait_for_url("**/consent/*")
    request_url = page.url
    await page.get_by_role("link", name="set one up").click()
    await page.wait_for_url("**/account/totp?next=/consent/*")
    secret = re.sub(r"\s", "", await page.locator("code.secret").inner_text())
    await page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    await page.get_by_role("button", name="Turn on").click()
    await page.get_by_text("Save your recovery codes").wait_for()
    await page.get_by_role("link", name="Continue to the app's request").click()
    await page.wait_for_url(request_url)
    await page.get_by_role("heading", name="Already shared with this app").wait_for()
    assert await page.get_by_role("link", name="set one up").count() == 0
    assert await page.get_by_label("Year 7", exact=True).is_checked()
    await page.get_by_role("checkbox", name=re.compile(r"^Pupils: special educational needs")).check()
    await page.get_by_label(
        re.compile("I confirm the school agrees to share “Pupils: special educational")
    ).check()
    await shot(page, "consent-incremental.png")
    await page.get_by_role("button", name="Allow access").click()
    await page.wait_for_url(CALLBACK + "?*")
    assert callback_query(page)["state"] == "state-two"

    # 3. Deny: the app hears access_denied, with its state and our issuer.
    await page.goto(authorize_url(live_server, data, everything, "state-three"))
    await page.wait_for_url("**/consent/*")
    await page.get_by_role("button", name="Deny").click()
    await page.wait_for_url(CALLBACK + "?*")
    denied = callback_query(page)
    assert denied["error"] == "access_denied"
    assert denied["state"] == "state-three"
    assert denied["iss"] == live_server.base_url
    assert violations == []


async def hide_a_pupil(page: Page) -> str:
    """Search the pupil picker by part of a last name, check that only matching pupils are listed, tick
    the first of them; its label."""
    rows = page.locator(".pupil-list .check")
    total = await rows.count()
    assert total > 20  # the demo school (the tests load a small one): too many to scroll through
    listed = page.locator(".pupil-list .check:not([hidden])")
    last_name = (await rows.nth(total // 2).locator("label").inner_text()).split(",")[0]
    part = last_name[:4]
    await page.get_by_label("Find pupils by name or year").press_sequentially(part.lower())
    labels = await listed.locator("label").all_inner_texts()
    assert 0 < len(labels) < total
    assert all(part.lower() in label.lower() for label in labels), labels
    assert await page.get_by_role("button", name="Find").is_hidden()  # the script filters as one types
    await listed.first.locator("input").check()
    label: str = await listed.first.locator("label").inner_text()
    await page.get_by_role("status").filter(has_text="pupils shown").wait_for()
    return label
