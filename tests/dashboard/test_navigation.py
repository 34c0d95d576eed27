"""The signed-in navigation bar, the home page `/` and the HTML 404 for unknown pages (issue 13, item 3)."""

from __future__ import annotations

import re

import httpx

from tests.dashboard.test_pages import assert_accessible
from tests.support.grants import Connected, sign_in_admin

HTML = {"accept": "text/html,application/xhtml+xml"}
NAV = '<nav class="site-nav" aria-label="Main">'


def current_link(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)" aria-current="page">', html)


async def test_home_page_says_what_the_gateway_is(browser: httpx.AsyncClient) -> None:
    response = await browser.get("/", headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert_accessible(html)
    assert "field by field, only with an admin" in html
    assert 'href="/login"' in html
    assert 'href="/docs"' in html
    assert NAV not in html  # nobody is signed in


async def test_unknown_pages_are_an_html_404_for_browsers_only(browser: httpx.AsyncClient) -> None:
    page = await browser.get("/no-such-page", headers=HTML)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>Page not found</h1>" in page.text
    assert_accessible(page.text)
    assert "no-such-page" not in page.text  # the address is not echoed

    for path, accept in (
        ("/no-such-page", "application/json"),
        ("/no-such-page", "*/*"),
        ("/manage/v1/no-such-thing", "text/html"),
        ("/api/v1/no-such-thing", "text/html"),
    ):
        answer = await browser.get(path, headers={"accept": accept})
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/problem+json", (path, accept)


async def test_the_navigation_bar_is_on_every_signed_in_page(
    browser: httpx.AsyncClient, connected: Connected
) -> None:
    login = await browser.get("/login")
    assert NAV not in login.text  # not on the sign-in pages

    csrf = await sign_in_admin(browser, connected.party)  # lands on the connected apps
    expected = {
        "/dashboard": "/dashboard",
        f"/dashboard/grants/{connected.grant.id}": "/dashboard",
        f"/dashboard/grants/{connected.grant.id}/revoke": "/dashboard",
        "/account": "/account",
    }
    for path, current in expected.items():
        html = (await browser.get(path)).text
        assert NAV in html, path
        for link in ("/dashboard", "/dashboard/log", "/dashboard/data", "/account"):
            assert f'<a href="{link}"' in html, (path, link)
        assert current_link(html) == [current], path
        nav = html.split(NAV, 1)[1].split("</nav>", 1)[0]
        assert '<form method="post" action="/logout"' in nav
        assert f'name="csrf_token" value="{csrf}"' in nav
        assert_accessible(html)

    out = await browser.post("/logout", data={"csrf_token": csrf})
    assert out.status_code == 303
    assert (await browser.get("/dashboard")).status_code == 303  # signed out
