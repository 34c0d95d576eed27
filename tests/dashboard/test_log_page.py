"""`/dashboard/log`: the school's authorisation log in plain English, with filters and pages; never another
school's events; a hostile query string is a 400 page (issue 13, item 3)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit import events
from gateway.audit.events import EventType
from gateway.audit.service import record_event
from tests.dashboard.test_pages import FORM, assert_accessible, page_of
from tests.support.grants import Connected, sign_in_admin


async def approve(session: AsyncSession, connected: Connected, at: datetime | None = None) -> None:
    """`grant.approved` as `consent.decisions.approve` records it: SEN for Years 7 and 8, one pupil hidden."""
    await record_event(
        session,
        school_id=connected.grant.school_id,
        event_type=EventType.GRANT_APPROVED,
        actor=events.admin(connected.party.account.admin.id),
        details={
            "grant_id": str(connected.grant.id),
            "app_id": str(connected.party.app.id),
            "scopes_added": "students.basic students.sen",
            "scopes": connected.grant.scopes,
            "sensitive_approved": "students.sen",
            "audience": {
                "kind": "groups",
                "group_count": 2,
                "group_ids": ["yr7", "yr8"],
                "excluded_count": 1,
            },
            "incremental": False,
        },
        occurred_at=at,
    )
    await session.commit()


def sentences(html: str) -> list[str]:
    found = re.findall(r"<p><strong>(.*?)</p>", html, re.S)
    return [unescape(re.sub(r"<[^>]+>", "", item)).strip() for item in found]


async def test_the_log_tells_what_happened_in_plain_english(
    browser: httpx.AsyncClient, session: AsyncSession, connected: Connected
) -> None:
    await approve(session, connected, datetime(2026, 7, 1, 9, 30, tzinfo=UTC))
    csrf = await sign_in_admin(browser, connected.party)
    narrowed = await browser.post(
        page_of(connected) + "/narrow",
        content=urlencode([("csrf_token", csrf), ("remove_scope", "students.demographics")]),
        headers=FORM,
    )
    assert narrowed.status_code == 303
    revoked = await browser.post(
        page_of(connected) + "/revoke", content=urlencode({"csrf_token": csrf}), headers=FORM
    )
    assert revoked.status_code == 303

    response = await browser.get("/dashboard/log")
    assert response.status_code == 200
    html = response.text
    assert_accessible(html)
    assert "<h1>Authorisation log</h1>" in html
    assert '<a href="/dashboard/log" aria-current="page">' in html
    email = connected.party.account.email
    said = [sentence for sentence in sentences(html) if sentence.startswith("Access")]
    assert said == [
        f"Access revoked. {email} revoked Homework Planner's access to the school's data.",
        f"Access narrowed. {email} narrowed what Homework Planner can see: no longer Pupils: date of birth "
        "and gender; now for the whole school.",
        f"Access allowed. {email} allowed Homework Planner to see Pupils: basic details, Pupils: special "
        "educational needs for pupils in Year 7, Year 8, except 1 pupil hidden from the app.",
    ], said
    # UK time with the zone named: 09:30 UTC on 1 July is 10:30 BST.
    assert '<time datetime="2026-07-01T09:30:00Z">1 July 2026, 10:30 BST</time>' in html
    assert "admin:" not in html  # no raw ids
    assert str(connected.party.app.id) not in sentences(html)[0]


async def test_filters_and_pages(
    browser: httpx.AsyncClient, session: AsyncSession, connected: Connected
) -> None:
    await approve(session, connected, datetime(2026, 1, 15, 12, 0, tzinfo=UTC))
    for minute in range(30):
        await record_event(
            session,
            school_id=connected.grant.school_id,
            event_type=EventType.ADMIN_LOGIN,
            actor=events.admin(connected.party.account.admin.id),
            occurred_at=datetime(2026, 2, 1, 10, minute, tzinfo=UTC),
        )
    await session.commit()
    await sign_in_admin(browser, connected.party)  # one more admin.login, now

    first = await browser.get("/dashboard/log", params={"type": "admin.login"})
    assert first.status_code == 200
    assert first.text.count('<li class="admin-login">') == 25
    assert "Newer events" not in first.text
    older = re.search(r'<a href="([^"]+)" rel="next">Older events</a>', first.text)
    assert older is not None
    second = await browser.get(older.group(1).replace("&amp;", "&"))
    assert second.status_code == 200
    assert second.text.count('<li class="admin-login">') == 6
    assert "Older events" not in second.text
    newer = re.search(r'<a href="([^"]+)" rel="prev">Newer events</a>', second.text)
    assert newer is not None
    again = await browser.get(newer.group(1).replace("&amp;", "&"))
    assert sentences(again.text) == sentences(first.text)
    cursor = re.search(r"cursor=([^&\"]+)", older.group(1))
    assert cursor is not None  # made for these filters: with others it is refused
    elsewhere = await browser.get(
        "/dashboard/log", params={"type": "grant.revoked", "cursor": cursor.group(1)}
    )
    assert elsewhere.status_code == 400

    # A day range in UK time, both ends included; the app filter.
    january = await browser.get("/dashboard/log", params={"from": "2026-01-15", "to": "2026-01-15"})
    assert [s.split(".")[0] for s in sentences(january.text)] == ["Access allowed"]
    assert 'value="2026-01-15"' in january.text
    by_app = await browser.get("/dashboard/log", params={"app": str(connected.party.app.id)})
    assert len(sentences(by_app.text)) == 1
    assert f'<option value="{connected.party.app.id}" selected>Homework Planner</option>' in by_app.text
    none = await browser.get("/dashboard/log", params={"type": "grant.revoked"})
    assert "No event matches these filters." in none.text


async def test_another_schools_events_never_show(
    browser: httpx.AsyncClient, session: AsyncSession, connected: Connected, other_connected: Connected
) -> None:
    other_connected.party.app.name = "Brook Rival App"
    await session.commit()
    await approve(session, other_connected)
    await approve(session, connected)
    await sign_in_admin(browser, connected.party)
    html = (await browser.get("/dashboard/log")).text
    assert "Homework Planner" in html
    assert "Brook Rival App" not in html
    assert other_connected.party.account.email not in html
    other_app = await browser.get("/dashboard/log", params={"app": str(other_connected.party.app.id)})
    assert other_app.status_code == 200
    assert "Brook Rival App" not in other_app.text
    assert "No event matches these filters." in other_app.text

    # A cursor made for another school (or other filters) is refused.
    other_browser = httpx.AsyncClient(transport=browser._transport, base_url=str(browser.base_url))
    async with other_browser:
        await sign_in_admin(other_browser, other_connected.party)
        for minute in range(30):
            await record_event(
                session,
                school_id=other_connected.grant.school_id,
                event_type=EventType.ADMIN_LOGIN,
                actor=events.admin(other_connected.party.account.admin.id),
                occurred_at=datetime(2026, 2, 1, 10, minute, tzinfo=UTC),
            )
        await session.commit()
        theirs = (await other_browser.get("/dashboard/log")).text
    link = re.search(r'href="/dashboard/log\?cursor=([^"]+)" rel="next"', theirs)
    assert link is not None
    stolen = await browser.get("/dashboard/log", params={"cursor": link.group(1)})
    assert stolen.status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        "nope=1",
        "type=nope",
        "type=admin.login&type=grant.revoked",
        "app=not-a-uuid",
        "app=%00",
        "from=2026-13-01",
        "from=20260101",
        "from=2026-02-01&to=2026-01-01",
        "cursor=garbage",
        "cursor=" + "x" * 2000,
        "type=%ED%A0%80",
        "to=" + "9" * 100,
    ],
)
async def test_hostile_queries_answer_a_400_page(
    browser: httpx.AsyncClient, connected: Connected, query: str
) -> None:
    await sign_in_admin(browser, connected.party)
    response = await browser.get(f"/dashboard/log?{query}")
    assert response.status_code == 400, query
    assert response.headers["content-type"].startswith("text/html")
    assert "These filters cannot be used" in response.text
    assert_accessible(response.text)


async def test_signed_out_goes_to_sign_in(browser: httpx.AsyncClient) -> None:
    response = await browser.get("/dashboard/log")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/dashboard/log"
