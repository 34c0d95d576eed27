"""`/dashboard`: connected apps, what each sees, narrowing and revoking with confirmation (no JavaScript).

Driven as a browser would (forms, cookies, CSRF), through the app. Chromium: tests/e2e/test_dashboard.py.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.consent.audience import Audience
from gateway.consent.models import Grant
from gateway.db.session import Database
from gateway.oauth.bearer import InvalidToken
from gateway.settings import Settings
from tests.support.audit import events_of
from tests.support.grants import Connected, mint, record_access, sign_in_admin, token_check

FORM = {"content-type": "application/x-www-form-urlencoded", "accept": "text/html"}


def page_of(connected: Connected) -> str:
    return f"/dashboard/grants/{connected.grant.id}"


async def post(browser: httpx.AsyncClient, path: str, fields: list[tuple[str, str]]) -> httpx.Response:
    return await browser.post(path, content=urlencode(fields), headers=FORM)


async def stored(session: AsyncSession, connected: Connected) -> Grant:
    grant = await session.get(Grant, connected.grant.id, populate_existing=True)
    assert grant is not None
    return grant


def assert_accessible(html: str) -> None:
    """No inline script or style (the CSP forbids them) and a label for every control."""
    assert re.sub(r'<script src="/static/[a-z-]+\.js" defer></script>', "", html).find("<script") == -1
    assert "style=" not in html
    assert "<style" not in html
    labelled = set(re.findall(r'<label for="([^"]+)"', html))
    controls = re.findall(r'<(?:input|select)(?![^>]*type="hidden")[^>]*\bid="([^"]+)"', html)
    assert set(controls) <= labelled, set(controls) - labelled


async def test_signed_out_admins_go_to_sign_in(browser: httpx.AsyncClient, connected: Connected) -> None:
    for path in ("/dashboard", page_of(connected), page_of(connected) + "/revoke"):
        response = await browser.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next={path}"  # back here after signing in
    refused = await post(browser, page_of(connected) + "/revoke", [("csrf_token", "x")])
    assert refused.status_code == 303
    assert refused.headers["location"] == "/login"


async def test_the_dashboard_lists_connected_apps_in_plain_english(
    browser: httpx.AsyncClient, session: AsyncSession, connected: Connected
) -> None:
    await sign_in_admin(browser, connected.party)
    account = await browser.get("/account")
    assert 'href="/dashboard"' in account.text

    response = await browser.get("/dashboard")
    assert response.status_code == 200
    html = response.text
    assert_accessible(html)
    assert "<h1>Connected apps</h1>" in html
    assert "Homework Planner" in html
    assert "Made by Synthetic Apps Ltd" in html
    assert 'Pupils: special educational needs <span class="tag">Sensitive</span>' in html
    assert "Pupils: basic details" in html
    assert "The whole school" in html
    assert "Never" in html
    assert f'href="{page_of(connected)}"' in html

    await record_access(session, connected)
    assert "Never" not in (await browser.get("/dashboard")).text


async def test_the_grant_page_shows_what_can_be_narrowed(
    browser: httpx.AsyncClient, connected: Connected
) -> None:
    await sign_in_admin(browser, connected.party)
    response = await browser.get(page_of(connected))
    assert response.status_code == 200
    html = response.text
    assert_accessible(html)
    assert "<h1>Manage a connected app</h1>" in html
    assert '<h2 id="app-title">Homework Planner</h2>' in html
    # Required scopes are shown, not offered; optional ones get a checkbox each.
    assert 'name="remove_scope" value="students.sen"' in html
    assert 'name="remove_scope" value="students.demographics"' in html
    assert 'value="students.basic"' not in html
    assert f"Approved by {connected.party.account.email}" in html
    assert 'name="audience" value="groups"' in html
    assert 'name="group" value="yr7"' in html
    assert 'name="exclude_student"' in html
    assert f'href="{page_of(connected)}/revoke"' in html


async def test_narrowing_through_the_form(
    browser: httpx.AsyncClient,
    session: AsyncSession,
    settings: Settings,
    test_database: Database,
    connected: Connected,
) -> None:
    token = await mint(session, settings, connected)
    csrf = await sign_in_admin(browser, connected.party)
    response = await post(
        browser,
        page_of(connected) + "/narrow",
        [
            ("csrf_token", csrf),
            ("remove_scope", "students.sen"),
            ("audience", "groups"),
            ("group", "yr7"),
            ("group", "7a"),
            ("exclude_student", "stu-00001"),
        ],
    )
    assert response.status_code == 303, response.text[:500]
    assert response.headers["location"] == page_of(connected) + "?notice=narrowed"
    grant = await stored(session, connected)
    assert "students.sen" not in grant.scope_set
    assert Audience.of(grant).stored() == {"groups": ["7a", "yr7"], "exclude": ["stu-00001"]}
    checked = await token_check(test_database, settings, token)
    assert "students.sen" not in checked.scopes
    [(actor, _)] = await events_of(session, grant.school_id, "grant.narrowed")
    assert actor == f"admin:{connected.party.account.admin.id}"

    shown = await browser.get(response.headers["location"])
    assert "The app sees less from its very next request" in shown.text
    assert_accessible(shown.text)
    # Now only the granted groups are offered, ticked; whole school is no longer a choice.
    assert 'name="audience"' not in shown.text
    assert re.search(r'name="group" value="yr7" checked', shown.text)
    assert 'value="yr8"' not in shown.text
    assert "Hidden from the app" in shown.text

    # Untick one group and hide one more pupil.
    again = await post(
        browser,
        page_of(connected) + "/narrow",
        [("csrf_token", csrf), ("group", "yr7"), ("exclude_student", "stu-00002")],
    )
    assert again.status_code == 303
    assert Audience.of(await stored(session, connected)).stored() == {
        "groups": ["yr7"],
        "exclude": ["stu-00001", "stu-00002"],
    }


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ([], "Nothing would change"),
        ([("remove_scope", "students.basic")], "revoke the grant instead"),
        ([("audience", "groups")], "Choose at least one group"),
        ([("audience", "groups"), ("group", "house-red")], "not year, registration or teaching"),
        ([("remove_scope", "x" * 101)], "too long"),
    ],
)
async def test_a_refused_narrowing_is_shown_again(
    browser: httpx.AsyncClient,
    session: AsyncSession,
    connected: Connected,
    fields: list[tuple[str, str]],
    says: str,
) -> None:
    csrf = await sign_in_admin(browser, connected.party)
    response = await post(browser, page_of(connected) + "/narrow", [("csrf_token", csrf), *fields])
    assert response.status_code == 422
    assert "There is a problem" in response.text
    assert says in response.text
    assert (await stored(session, connected)).scopes == connected.grant.scopes
    assert await events_of(session, connected.grant.school_id, "grant.narrowed") == []


async def test_forms_need_the_sessions_csrf_token(
    browser: httpx.AsyncClient, session: AsyncSession, connected: Connected
) -> None:
    await sign_in_admin(browser, connected.party)
    for fields in ([], [("csrf_token", "forged")], [("csrf_token", "a"), ("csrf_token", "b")]):
        for action in ("/narrow", "/revoke"):
            response = await post(
                browser, page_of(connected) + action, [*fields, ("remove_scope", "students.sen")]
            )
            assert response.status_code == 403, (action, fields)
    grant = await stored(session, connected)
    assert grant.revoked_at is None
    assert "students.sen" in grant.scope_set


async def test_revoking_asks_first_then_ends_every_token(
    browser: httpx.AsyncClient,
    session: AsyncSession,
    settings: Settings,
    test_database: Database,
    connected: Connected,
) -> None:
    token = await mint(session, settings, connected)
    csrf = await sign_in_admin(browser, connected.party)
    confirm = await browser.get(page_of(connected) + "/revoke")
    assert confirm.status_code == 200
    assert_accessible(confirm.text)
    assert "Are you sure?" in confirm.text
    assert "stops working at once (1 open connection)" in confirm.text
    assert "Yes, revoke access" in confirm.text
    assert (await stored(session, connected)).revoked_at is None  # asking changes nothing

    response = await post(browser, page_of(connected) + "/revoke", [("csrf_token", csrf)])
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard?notice=revoked"
    assert (await stored(session, connected)).revoked_at is not None
    with pytest.raises(InvalidToken):
        await token_check(test_database, settings, token)
    [(actor, _)] = await events_of(session, connected.grant.school_id, "grant.revoked")
    assert actor == f"admin:{connected.party.account.admin.id}"

    listing = await browser.get(response.headers["location"])
    assert "Access revoked." in listing.text
    assert "Homework Planner" not in listing.text
    assert "No app is connected" in listing.text
    ended = await browser.get(page_of(connected))
    assert ended.status_code == 200
    assert "has been revoked" in ended.text
    assert '<form method="post" action="/dashboard/grants' not in ended.text
    for again in (
        await browser.get(page_of(connected) + "/revoke"),
        await post(browser, page_of(connected) + "/revoke", [("csrf_token", csrf)]),
        await post(
            browser, page_of(connected) + "/narrow", [("csrf_token", csrf), ("remove_scope", "students.sen")]
        ),
    ):
        assert again.status_code == 409
        assert "already revoked" in again.text
    assert len(await events_of(session, connected.grant.school_id, "grant.revoked")) == 1


async def test_another_schools_grant_is_a_not_found_page(
    browser: httpx.AsyncClient, session: AsyncSession, connected: Connected, other_connected: Connected
) -> None:
    csrf = await sign_in_admin(browser, connected.party)
    listing = await browser.get("/dashboard")
    assert str(other_connected.grant.id) not in listing.text
    for path in (
        page_of(other_connected),
        f"/dashboard/grants/{uuid.uuid4()}",
        "/dashboard/grants/not-an-id",
    ):
        for response in (
            await browser.get(path),
            await browser.get(path + "/revoke"),
            await post(browser, path + "/revoke", [("csrf_token", csrf)]),
            await post(browser, path + "/narrow", [("csrf_token", csrf), ("remove_scope", "students.sen")]),
        ):
            assert response.status_code == 404, (path, response.status_code)
            assert "There is no connected app of your school here" in response.text
    grant = await stored(session, other_connected)
    assert grant.revoked_at is None
    assert "students.sen" in grant.scope_set
