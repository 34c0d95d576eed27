"""`/dashboard/ended`: connections that ended, who ended them (an admin, the app itself), how and when; never
another school's (issue 13, item 3)."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit import events
from gateway.consent import grants
from gateway.db.base import utcnow
from tests.dashboard.test_pages import FORM, assert_accessible, page_of
from tests.support.grants import Connected, connect, sign_in_admin


async def test_revoked_and_disconnected_connections_are_listed(
    browser: httpx.AsyncClient, session: AsyncSession, connected: Connected
) -> None:
    csrf = await sign_in_admin(browser, connected.party)
    assert "No connection has ended." in (await browser.get("/dashboard/ended")).text
    dashboard = await browser.get("/dashboard")
    assert 'href="/dashboard/ended"' in dashboard.text

    revoked = await browser.post(
        page_of(connected) + "/revoke", content=urlencode({"csrf_token": csrf}), headers=FORM
    )
    assert revoked.status_code == 303
    again = await connect(session, connected.party)  # the app reconnects, then disconnects itself
    await grants.revoke_grant(
        session,
        again.grant,
        actor=events.app(connected.party.app.client_id),
        event_type=events.EventType.APP_DISCONNECTED,
        now=utcnow(),
    )
    await session.commit()

    response = await browser.get("/dashboard/ended")
    assert response.status_code == 200
    html = response.text
    assert_accessible(html)
    assert "<h1>Ended connections</h1>" in html
    assert '<a href="/dashboard" aria-current="page">' in html
    first, second = html.split('<li class="app connection">')[1:3]
    assert "<dd>The app disconnected itself</dd>" in first
    assert "<dd>Homework Planner</dd>" in first  # by the app itself
    assert "<dd>Revoked by an admin of the school</dd>" in second
    assert f"<dd>{connected.party.account.email}</dd>" in second
    assert "Pupils: special educational needs" in second
    assert " GMT</time>" in html or " BST</time>" in html


async def test_another_schools_ended_connections_never_show(
    browser: httpx.AsyncClient, session: AsyncSession, connected: Connected, other_connected: Connected
) -> None:
    other_connected.party.app.name = "Brook Rival App"
    await grants.revoke_grant(
        session,
        other_connected.grant,
        actor=events.admin(other_connected.party.account.admin.id),
        now=utcnow(),
    )
    await session.commit()
    await sign_in_admin(browser, connected.party)
    html = (await browser.get("/dashboard/ended")).text
    assert "Brook Rival App" not in html
    assert "No connection has ended." in html
    assert (await browser.get("/dashboard/ended?x=1")).status_code == 400
