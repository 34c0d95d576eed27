"""A real `gateway serve` process and Debian's Chromium driven by Playwright (no browser download)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.support.databases import migrated_database
from tests.support.server import RunningServer, gateway_server

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark this folder's tests `browser` (the hook sees the whole session's items: only ours)."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
async def e2e_env(
    server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, str]]:
    """A database and data directory of the browser tests' own: what they commit stays out of other tests'."""
    directory = tmp_path_factory.mktemp("e2e")
    async with migrated_database(directory) as database:
        yield {**server_env, "GATEWAY_DATABASE_URL": database.url, "GATEWAY_DATA_DIR": str(directory)}


@pytest.fixture(scope="session")
def live_server(e2e_env: dict[str, str]) -> Iterator[RunningServer]:
    with gateway_server(e2e_env) as server:
        yield server


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    executable = os.environ.get("GATEWAY_TEST_CHROMIUM", "/usr/bin/chromium")
    if not os.access(executable, os.X_OK):
        pytest.fail(f"Chromium not found at {executable}: scripts/test installs Debian's chromium package")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        await browser.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    yield page
    await context.close()
