"""A first admin in real Chromium: setup link, sign in, enrol TOTP, sign in again with a code.

Screenshots land in docs/screenshots/ so reviewers see the pages as admins do. Committed ones are
only replaced when GATEWAY_UPDATE_SCREENSHOTS=1 (each run differs: a new TOTP key), otherwise a run's
shots go to test-artifacts/.
"""

from __future__ import annotations

import asyncio
import email
import json
import re
from pathlib import Path

import pyotp
from playwright.async_api import Page

from gateway.auth.totp import provisioning_uri
from tests.support.cli import gateway
from tests.support.qr import decode_qr, has_light_border, screenshot_crop
from tests.support.screenshots import shot
from tests.support.server import RunningServer

PASSWORD = "Copper-Kettle-9034"
NEW_PASSWORD = "Tin-Lantern-5127"


async def test_first_admin_sets_up_signs_in_and_enrols_totp(
    page: Page, live_server: RunningServer, e2e_env: dict[str, str]
) -> None:
    created = gateway(
        "school",
        "create",
        "--urn",
        "930001",
        "--name",
        "Chromium Vale Academy",
        "--la-code",
        "201",
        "--establishment-number",
        "4002",
        "--admin-email",
        "head@chromium-vale.example.org",
        "--json",
        env={**e2e_env, "GATEWAY_ISSUER": live_server.base_url},
    )
    assert created.returncode == 0, created.stderr
    setup_link = json.loads(created.stdout)["setup_link"]
    assert setup_link.startswith(f"{live_server.base_url}/setup?token=")

    await page.goto(setup_link)
    await page.get_by_label("New password", exact=True).fill(PASSWORD)
    await page.get_by_label("New password again").fill(PASSWORD)
    await shot(page, "setup.png")
    await page.get_by_role("button", name="Save password").click()
    await page.wait_for_url("**/login?notice=password_set")

    await page.get_by_label("Email address").fill("head@chromium-vale.example.org")
    await page.get_by_label("Password").fill(PASSWORD)
    await shot(page, "login.png")
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/dashboard")  # signing in without a `next` lands on the connected apps
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Account").click()
    await page.wait_for_url("**/account")
    await page.get_by_role("link", name="set up an authenticator app").click()
    await page.wait_for_url("**/account/totp")
    secret = re.sub(r"\s", "", await page.locator("code.secret").inner_text())
    await shot(page, "totp-enrol.png")
    await assert_qr_scans(page, secret, live_server)
    await page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    await page.get_by_role("button", name="Turn on").click()
    await page.get_by_text("Save your recovery codes").wait_for()
    recovery_codes = await page.locator("ul.codes li code").all_inner_texts()
    assert len(recovery_codes) == 10
    await page.get_by_role("link", name="Continue to your account").click()
    await page.get_by_text("Authenticator app, set up").wait_for()
    await shot(page, "account.png")

    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url("**/login?notice=signed_out")
    await page.get_by_label("Email address").fill("head@chromium-vale.example.org")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/login/totp")
    await shot(page, "totp-step.png")
    await page.get_by_label("Code").fill("000000")
    await page.get_by_role("button", name="Continue").click()
    await page.wait_for_url("**/login/totp?failed=true")
    assert await page.get_by_role("alert").is_visible()
    await page.get_by_label("Code").fill(recovery_codes[0])
    await page.get_by_role("button", name="Continue").click()
    await page.wait_for_url("**/dashboard")
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url("**/login?notice=signed_out")

    # Locked out after ten wrong passwords (the recovery code reset the count), then back by the emailed link.
    for attempt in range(10):
        await sign_in(page, f"Wrong-Password-{attempt}")
        assert page.url.endswith("/login?failed=true")
    await sign_in(page, PASSWORD)  # the right password, but the account is locked now
    assert page.url.endswith("/login?failed=true")
    await shot(page, "locked.png")
    mail = await wait_for_mail(Path(e2e_env["GATEWAY_DATA_DIR"]) / "mail")
    link = re.search(r"https?://\S+/reset-password\?token=\S+", mail)
    assert link, mail
    await page.goto(link.group(0))
    await page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    await page.get_by_label("New password again").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Save password").click()
    await page.wait_for_url("**/login?notice=password_set")
    await sign_in(page, NEW_PASSWORD)
    await page.wait_for_url("**/login/totp")
    await page.get_by_label("Code").fill(recovery_codes[1])
    await page.get_by_role("button", name="Continue").click()
    await page.wait_for_url("**/dashboard")


async def assert_qr_scans(page: Page, secret: str, live_server: RunningServer) -> None:
    """The QR code as drawn (cut out of a page screenshot) decodes to the enrolment URI, whole, on a wide
    and a phone-sized window, with its quiet zone."""
    issuer = f"Gateway ({live_server.base_url.split('//', 1)[-1]})"
    expected = provisioning_uri(secret, account_name="head@chromium-vale.example.org", issuer=issuer)
    qr = page.locator("figure.qr svg")
    view_box = await qr.get_attribute("viewBox")
    assert view_box is not None
    modules = int(view_box.split()[2])  # the code's modules plus 4 light ones each side
    for width in (1280, 360):
        await page.set_viewport_size({"width": width, "height": 900})
        image = await screenshot_crop(page, qr)
        assert image.width >= 150, image.size
        assert abs(image.width - image.height) <= 1, image.size
        assert has_light_border(image, width=image.width * 3 // modules), "the quiet zone is cut off"
        assert decode_qr(image) == expected
    await page.set_viewport_size({"width": 1280, "height": 900})


async def sign_in(page: Page, password: str) -> None:
    await page.get_by_label("Email address").fill("head@chromium-vale.example.org")
    await page.get_by_label("Password").fill(password)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Sign in").click()


def lockout_mail(directory: Path, to: str) -> str | None:
    """The body of the lockout notice the development mail transport wrote for `to`, if it is there yet."""
    for path in sorted(directory.glob("*.eml")) if directory.exists() else []:
        message = email.message_from_bytes(path.read_bytes())
        body = message.get_payload(decode=True)
        if message["To"] == to and isinstance(body, bytes) and b"locked" in body:
            return body.decode()
    return None


async def wait_for_mail(directory: Path, within_seconds: float = 30) -> str:
    """The server's outbox worker delivers every few seconds."""
    deadline = asyncio.get_running_loop().time() + within_seconds
    while asyncio.get_running_loop().time() < deadline:
        body = await asyncio.to_thread(lockout_mail, directory, "head@chromium-vale.example.org")
        if body is not None:
            return body
        await asyncio.sleep(0.5)
    raise AssertionError(f"no lockout mail in {directory} within {within_seconds} s")
