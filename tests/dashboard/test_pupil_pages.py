"""`/dashboard/pupils` and `/dashboard/pupils/{id}`: find a pupil by name or UPN, then see which apps can see
them now and which requests included them; never another school's pupils or reads; a hostile query string
is a 400 page (issue 13, item 4)."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.settings import Settings
from tests.dashboard.test_pages import assert_accessible
from tests.support import records
from tests.support.grants import Connected, mint, sign_in_admin
from tests.support.http import bearer

PUPIL = "stu-00002"  # Caelan Corrow002, year 7 (tests/support/records.py, consent_flow.add_records)
UPN = str(records.student(2)["upn"])


async def test_the_search_finds_pupils_by_name_and_by_upn(
    browser: httpx.AsyncClient, connected: Connected
) -> None:
    await sign_in_admin(browser, connected.party)
    start = await browser.get("/dashboard/pupils")
    assert start.status_code == 200
    assert_accessible(start.text)
    assert '<a href="/dashboard/pupils" aria-current="page">Pupils</a>' in start.text
    assert "The school's MIS has sent 12 pupils." in start.text

    for search in ("caelan corrow", "CORROW002", UPN.lower(), "corrow 7"):
        page = await browser.get("/dashboard/pupils", params={"q": search})
        assert page.status_code == 200
        assert f'<a href="/dashboard/pupils/{PUPIL}">Corrow002, Caelan (year 7)</a>' in page.text, search
        assert "1 pupil matches" in page.text
    none = await browser.get("/dashboard/pupils", params={"q": "nobody-here"})
    assert "No pupil matches “nobody-here”." in none.text


async def test_a_pupils_page_shows_who_can_see_them_and_who_read_them(
    browser: httpx.AsyncClient,
    client: httpx.AsyncClient,
    session: AsyncSession,
    settings: Settings,
    connected: Connected,
) -> None:
    token = await mint(session, settings, connected)
    read = await client.get("/api/v1/students?limit=5", headers=bearer(token))
    assert read.status_code == 200
    await sign_in_admin(browser, connected.party)

    page = await browser.get(f"/dashboard/pupils/{PUPIL}")

    assert page.status_code == 200
    html = page.text
    assert_accessible(html)
    assert "<h1>Corrow002, Caelan (year 7)</h1>" in html
    assert f"<dt>UPN</dt><dd>{UPN}</dd>" in html
    now = html.split('id="now-title"', 1)[1].split("</section>", 1)[0]
    assert "<h3>Homework Planner</h3>" in now
    assert f"<dt>Allowed by</dt><dd>{connected.party.account.email}</dd>" in now
    assert "Pupils: special educational needs: approved by " + connected.party.account.email in now
    assert '<th scope="row">Pupils</th>' in now
    assert '<th scope="row">Groups and classes</th>' in now
    sent = html.split('id="sent-title"', 1)[1].split("</section>", 1)[0]
    assert '<th scope="row">Homework Planner</th>' in sent
    assert "<li>Pupils: basic details: " in sent
    assert '<td class="number">5</td>' in sent
    assert 'href="/manage/v1/students/stu-00002/disclosures"' in html
    assert '<a href="/dashboard/pupils" aria-current="page">Pupils</a>' in html

    as_json = await browser.get(f"/manage/v1/students/{PUPIL}/disclosures")  # the admin's session will do
    assert as_json.status_code == 200
    assert len(as_json.json()["disclosures"]) == 1


async def test_a_pupil_nobody_read_says_so(browser: httpx.AsyncClient, connected: Connected) -> None:
    await sign_in_admin(browser, connected.party)
    html = (await browser.get(f"/dashboard/pupils/{PUPIL}")).text
    assert "No app has received anything about this pupil." in html
    assert "<h3>Homework Planner</h3>" in html  # the grant covers the whole school


async def test_another_schools_reads_and_pupils_never_show(
    browser: httpx.AsyncClient,
    client: httpx.AsyncClient,
    session: AsyncSession,
    settings: Settings,
    connected: Connected,
    other_connected: Connected,
) -> None:
    other_connected.party.app.name = "Brook Rival App"
    await session.commit()
    token = await mint(session, settings, other_connected)
    assert (await client.get(f"/api/v1/students/{PUPIL}", headers=bearer(token))).status_code == 200
    await sign_in_admin(browser, connected.party)
    html = (await browser.get(f"/dashboard/pupils/{PUPIL}")).text  # the same MIS id, our own pupil
    assert "Brook Rival App" not in html
    assert "No app has received anything about this pupil." in html


@pytest.mark.parametrize("student_id", ["stu-99999", "a" * 65, "stu 1", "%00", "%F0%9F%98%80"])
async def test_an_unknown_or_malformed_pupil_is_a_404_page(
    browser: httpx.AsyncClient, connected: Connected, student_id: str
) -> None:
    await sign_in_admin(browser, connected.party)
    response = await browser.get(f"/dashboard/pupils/{quote(student_id, safe='%')}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/dashboard/pupils", "q=" + "x" * 101),
        ("/dashboard/pupils", "q=a%00b"),
        ("/dashboard/pupils", "q=a&q=b"),
        ("/dashboard/pupils", "search=a"),
        (f"/dashboard/pupils/{PUPIL}", "cursor=forged"),
        (f"/dashboard/pupils/{PUPIL}", "page=2"),
        (f"/dashboard/pupils/{PUPIL}", "cursor=" + "x" * 5000),
    ],
)
async def test_a_hostile_query_string_is_a_400_page(
    browser: httpx.AsyncClient, connected: Connected, path: str, query: str
) -> None:
    await sign_in_admin(browser, connected.party)
    response = await browser.get(f"{path}?{query}")
    assert response.status_code == 400
    assert "These filters cannot be used" in response.text


async def test_signed_out_admins_go_to_sign_in_and_come_back(
    browser: httpx.AsyncClient, connected: Connected
) -> None:
    for path in ("/dashboard/pupils", f"/dashboard/pupils/{PUPIL}"):
        response = await browser.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next={path}"


async def test_older_requests_are_a_page_away(
    browser: httpx.AsyncClient,
    client: httpx.AsyncClient,
    session: AsyncSession,
    settings: Settings,
    connected: Connected,
) -> None:
    token = await mint(session, settings, connected)
    for _ in range(27):
        assert (await client.get(f"/api/v1/students/{PUPIL}", headers=bearer(token))).status_code == 200
    await sign_in_admin(browser, connected.party)
    first = (await browser.get(f"/dashboard/pupils/{PUPIL}")).text
    assert first.count('<th scope="row">Homework Planner</th>') == 25 + 0  # the "now" table has no such row
    older = first.split('rel="next"', 1)[0].rsplit('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    second = (await browser.get(older)).text
    assert second.count('<th scope="row">Homework Planner</th>') == 2
    assert "Newest requests" in second
    assert 'rel="next"' not in second
