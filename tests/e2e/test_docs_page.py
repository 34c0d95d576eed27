"""/docs renders in a real browser from the gateway's own assets, with no CSP violation."""

from __future__ import annotations

from playwright.async_api import ConsoleMessage, Page, Request

from tests.support.screenshots import artifact
from tests.support.server import RunningServer


async def test_docs_page_renders_offline(page: Page, live_server: RunningServer) -> None:
    requested: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda message: _collect(message, problems))
    page.on("requestfailed", lambda request: problems.append(f"failed: {_describe(request)}"))

    response = await page.goto(f"{live_server.base_url}/docs")
    assert response is not None
    assert response.status == 200
    title = page.locator(".swagger-ui .info .title")
    await title.wait_for(timeout=15_000)
    assert "The gateway" in await title.inner_text()
    await page.get_by_text("/healthz").first.wait_for()
    await page.screenshot(path=artifact("docs.png"), full_page=True)

    assert requested, "the browser made no requests"
    assert all(url.startswith(live_server.base_url) or url.startswith("data:") for url in requested), (
        requested
    )
    assert problems == []


async def test_oauth2_redirect_page_runs_under_its_hash_only_csp(
    page: Page, live_server: RunningServer
) -> None:
    problems: list[str] = []
    page.on("console", lambda message: _collect(message, problems))
    response = await page.goto(f"{live_server.base_url}/docs/oauth2-redirect")
    assert response is not None
    assert response.status == 200
    assert "script-src 'sha256-" in response.headers["content-security-policy"]
    await page.wait_for_load_state("load")
    # Opened directly there is no Swagger window to report to; what matters is that CSP allowed the script.
    assert not [p for p in problems if "Content Security Policy" in p]


def _collect(message: ConsoleMessage, problems: list[str]) -> None:
    if message.type in {"error", "warning"} and "favicon" not in message.text:
        problems.append(f"{message.type}: {message.text}")


def _describe(request: Request) -> str:
    return f"{request.method} {request.url} ({request.failure})"
