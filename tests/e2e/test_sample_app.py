"""The sample app (examples/sample_app) completes the flow against a real gateway, as the README says:
`gateway demo` data, the sample app on 127.0.0.1:8765, the admin consenting in Chromium."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from playwright.async_api import Page

from tests.support.demo import demo
from tests.support.paths import REPO
from tests.support.server import RunningServer

SAMPLE_APP = "http://127.0.0.1:8765"


@contextmanager
def sample_app(credentials: Path) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "examples.sample_app", "--credentials", str(credentials)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            try:
                if httpx.get(SAMPLE_APP + "/", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("the sample app did not start")
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_the_sample_app_completes_the_flow(
    page: Page, live_server: RunningServer, e2e_env: dict[str, str], tmp_path: Path
) -> None:
    data = demo(e2e_env, live_server, tmp_path, seed=9)
    with sample_app(tmp_path / "demo-credentials.json") as process:
        await page.goto(SAMPLE_APP + "/")
        await page.get_by_role("link", name="Connect a school").click()
        await page.wait_for_url("**/login?next=/consent/*")
        await page.get_by_label("Email address").fill(data["admin"]["email"])
        await page.get_by_label("Password").fill(data["admin"]["password"])
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url("**/consent/*")
        await page.get_by_label("Pupils: date of birth and gender").check()
        await page.get_by_role("button", name="Allow access").click()
        await page.wait_for_url(SAMPLE_APP + "/**")
        await page.get_by_text("Connected. Granted scopes").wait_for()
        text = await page.locator("body").inner_text()
        assert "students.demographics" in text
        assert re.search(r"\d+ school\(s\) have granted this app", text)  # other tests' schools too
        # The pupils it read carry only the granted fields: basic details and date of birth/gender.
        assert re.search(r"GET /api/v1/students\?limit=5: 5 record\(s\)", text), text
        assert '"dob"' in text
        assert '"upn"' not in text  # students.identifiers was never asked for
        assert '"sen_provision"' not in text  # students.sen was not ticked
        await page.get_by_role("button", name="Refresh token").click()
        await page.get_by_text("Connected. Granted scopes").wait_for()

        # The school revokes on the dashboard; the app's very next call fails.
        await page.goto(f"{live_server.base_url}/dashboard")
        await page.get_by_role("link", name="Review, narrow or revoke").first.click()
        await page.get_by_role("link", name="Revoke access…").click()
        await page.get_by_role("button", name="Yes, revoke access").click()
        await page.wait_for_url("**/dashboard?notice=revoked")
        await page.goto(SAMPLE_APP + "/")
        await page.get_by_role("button", name="Call the API again").click()
        await page.get_by_text("GET /api/v1/students answered 401").last.wait_for()
        page_text = await page.locator("body").inner_text()
        assert data["app"]["client_secret"] not in page_text
    output = process.stdout.read().decode() if process.stdout else ""
    assert data["app"]["client_secret"] not in output
    assert data["admin"]["password"] not in output
