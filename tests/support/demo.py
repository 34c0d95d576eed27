"""The demo school and app in the browser tests: loaded by `gateway demo`, and the app's redirect URI
(http://127.0.0.1:8765/callback) answered by Playwright, so a test reads what the app would get."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.async_api import Page, Route

from tests.support.cli import gateway
from tests.support.server import RunningServer

CALLBACK = "http://127.0.0.1:8765/callback"


def demo(e2e_env: dict[str, str], server: RunningServer, tmp_path: Path, *, seed: int = 1) -> dict[str, Any]:
    """Load a demo school (each seed its own school and admin) into the browser tests' database."""
    credentials = tmp_path / "demo-credentials.json"
    loaded = gateway(
        "demo", "--no-serve", "--seed", str(seed), "--students", "40", "--credentials-file", str(credentials),
        "--port", str(urlsplit(server.base_url).port),
        env={**e2e_env, "GATEWAY_ISSUER": server.base_url},
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    result: dict[str, Any] = json.loads(credentials.read_text())
    return result


async def answer_callbacks(page: Page) -> None:
    async def fulfil(route: Route) -> None:
        await route.fulfill(
            status=200, content_type="text/html", body="<!doctype html><title>App</title><p>Back at the app."
        )

    await page.route(re.compile(r"^http://127\.0\.0\.1:8765/.*"), fulfil)


def callback_query(page: Page) -> dict[str, str]:
    assert page.url.startswith(CALLBACK + "?"), page.url
    return {name: values[0] for name, values in parse_qs(urlsplit(page.url).query).items()}


async def sign_in_on_page(page: Page, data: dict[str, Any]) -> None:
    """Fill and send the sign-in form the page shows with the demo admin's email and password."""
    await page.get_by_label("Email address").fill(data["admin"]["email"])
    await page.get_by_label("Password").fill(data["admin"]["password"])
    await page.get_by_role("button", name="Sign in").click()
