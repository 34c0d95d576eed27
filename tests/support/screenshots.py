"""Screenshots and other files the browser tests leave behind.

Committed screenshots (docs/screenshots/) are only replaced when GATEWAY_UPDATE_SCREENSHOTS=1 (each run
differs: a new TOTP key, new ids), otherwise a run's shots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
from pathlib import Path

from playwright.async_api import Page

from tests.support.paths import ARTIFACTS, REPO

SCREENSHOTS = REPO / "docs" / "screenshots"


async def shot(page: Page, name: str) -> None:
    committed = SCREENSHOTS / name
    update = os.environ.get("GATEWAY_UPDATE_SCREENSHOTS") == "1" or not committed.exists()
    target = committed if update else ARTIFACTS / "screenshots" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=target, full_page=True)


def artifact(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name
