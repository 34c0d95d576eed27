"""`/dashboard/data`: what each app actually read, from the data-access log, per kind of data, with the fields
in plain words, records, responses and the last read in UK time; never another school's reads (issue 13,
item 3)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.access_log.models import DataAccess
from tests.dashboard.test_pages import assert_accessible
from tests.support.grants import Connected, sign_in_admin


async def read(
    session: AsyncSession, connected: Connected, resource: str, fields: str, count: int, at: datetime
) -> None:
    session.add(
        DataAccess(
            school_id=connected.grant.school_id,
            app_id=connected.party.app.id,
            client_id=connected.party.app.client_id,
            grant_id=connected.grant.id,
            resource=resource,
            fields=fields,
            record_count=count,
            occurred_at=at,
        )
    )
    await session.commit()


async def test_each_apps_reads_in_plain_words(
    browser: httpx.AsyncClient, session: AsyncSession, connected: Connected
) -> None:
    await read(
        session,
        connected,
        "students",
        "id first_name sen_provision",
        12,
        datetime(2026, 1, 5, 8, 0, tzinfo=UTC),
    )
    await read(session, connected, "students", "id upn", 3, datetime(2026, 7, 2, 15, 45, tzinfo=UTC))
    await read(session, connected, "groups", "id name", 6, datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    await sign_in_admin(browser, connected.party)

    response = await browser.get("/dashboard/data")
    assert response.status_code == 200
    html = response.text
    assert_accessible(html)
    assert "<h1>Data accessed</h1>" in html
    assert '<a href="/dashboard/data" aria-current="page">' in html
    assert '<h2 id="reads-1">Homework Planner</h2>' in html
    assert "3 responses with data; last read 2 July 2026, 16:45 BST." in html
    pupils = html.split('<th scope="row">Pupils</th>', 1)[1].split("</tr>", 1)[0]
    assert "<li>Pupils: basic details: first name, id</li>" in pupils
    assert "<li>Pupils: official identifiers: UPN</li>" in pupils
    assert 'Pupils: special educational needs <span class="tag">Sensitive</span>: SEN provision' in pupils
    assert '<td class="number">15</td>' in pupils  # records
    assert '<td class="number">2</td>' in pupils  # responses
    assert "2 July 2026, 16:45 BST" in pupils
    assert '<th scope="row">Groups and classes</th>' in html
    assert "5 January 2026" not in pupils  # the last read only


async def test_nothing_read_yet(browser: httpx.AsyncClient, connected: Connected) -> None:
    await sign_in_admin(browser, connected.party)
    assert "No app has read any of the school's data yet." in (await browser.get("/dashboard/data")).text


async def test_another_schools_reads_never_show(
    browser: httpx.AsyncClient, session: AsyncSession, connected: Connected, other_connected: Connected
) -> None:
    other_connected.party.app.name = "Brook Rival App"
    await session.commit()
    await read(session, other_connected, "students", "id dob", 99, datetime(2026, 2, 1, tzinfo=UTC))
    await sign_in_admin(browser, connected.party)
    html = (await browser.get("/dashboard/data")).text
    assert "Brook Rival App" not in html
    assert "date of birth" not in html
    assert "No app has read any of the school's data yet." in html


@pytest.mark.parametrize("query", ["app=x", "cursor=abc", "%00=1"])
async def test_query_parameters_answer_a_400_page(
    browser: httpx.AsyncClient, connected: Connected, query: str
) -> None:
    await sign_in_admin(browser, connected.party)
    response = await browser.get(f"/dashboard/data?{query}")
    assert response.status_code == 400
    assert "These filters cannot be used" in response.text


async def test_signed_out_goes_to_sign_in(browser: httpx.AsyncClient) -> None:
    response = await browser.get("/dashboard/data")
    assert response.headers["location"] == "/login?next=/dashboard/data"
