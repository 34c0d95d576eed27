"""The "pupils the app must never see" picker on the consent and dashboard pages: checkboxes named
`exclude_student` (SPEC §9) with a search that works without JavaScript (Find sends the form back and the
page comes again with the choices kept) and a script served from the gateway that the CSP allows."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.consent.audience import Audience
from gateway.consent.choices import pupil_matches
from gateway.consent.models import Grant
from tests.support.consent_flow import Party, authorize_url, decide, open_consent
from tests.support.grants import Connected, sign_in_admin
from tests.support.http import FORM

ROW = re.compile(
    r'<div class="check"( hidden)?>\s*<input type="checkbox" id="exclude-\d+" name="exclude_student" '
    r'value="([^"]+)"( checked)?>\s*<label for="exclude-\d+">([^<]+)</label>'
)
SCOPE = "school groups students.basic students.demographics"


def pupils(html: str) -> dict[str, tuple[bool, bool, str]]:
    """Each pupil row: id → (listed, ticked, label)."""
    return {m.group(2): (m.group(1) is None, m.group(3) is not None, m.group(4)) for m in ROW.finditer(html)}


def test_a_search_matches_every_word_in_any_case_and_order() -> None:
    assert pupil_matches("Smith, Jo (year 7)", "jo SMI")
    assert pupil_matches("Smith, Jo (year 7)", "year 7 smith")
    assert pupil_matches("Smith, Jo (year 7)", "  ")
    assert not pupil_matches("Smith, Jo (year 7)", "jo jones")


async def test_the_consent_page_lists_pupils_as_checkboxes_with_a_search(
    browser: httpx.AsyncClient, party: Party
) -> None:
    _, page = await open_consent(browser, party, authorize_url(party))
    rows = pupils(page.text)
    assert len(rows) == 12
    assert all(listed and not ticked for listed, ticked, _ in rows.values())
    assert '<label for="pupil-search">' in page.text
    assert 'name="find_pupils"' in page.text
    assert '<script src="/static/pupil-search.js" defer></script>' in page.text
    assert "<select" not in page.text
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'self' covers it
    script = await browser.get("/static/pupil-search.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]


async def test_find_without_javascript_keeps_the_choices_and_filters_the_pupils(
    browser: httpx.AsyncClient, party: Party, session: AsyncSession
) -> None:
    path, page = await open_consent(browser, party, authorize_url(party, scope=SCOPE))
    labels = {pupil: label for pupil, (_, _, label) in pupils(page.text).items()}
    first, second = sorted(labels)[:2]
    wanted = labels[second].split(",")[0]  # a last name
    found = await decide(
        browser, path, page,
        [("scope", "students.demographics"), ("audience", "groups"), ("group", "7a"),
         ("exclude_student", first), ("pupil_search", wanted.upper()), ("find_pupils", "find")],
    )  # fmt: skip
    assert found.status_code == 200, found.text[:500]
    assert "There is a problem" not in found.text
    rows = pupils(found.text)
    assert len(rows) == 12  # every pupil is still on the form, the others only hidden
    assert rows[first][:2] == (True, True)  # ticked: listed whatever the search
    assert rows[second][:2] == (True, False)
    assert {p for p, (listed, _, label) in rows.items() if listed} == {first} | {
        p for p, label in labels.items() if wanted.casefold() in label.casefold()
    }
    assert f'value="{wanted.upper()}"' in found.text
    assert 'name="scope" value="students.demographics" checked' in found.text
    assert 'name="group" value="7a" checked' in found.text
    assert await session.scalar(select(Grant).where(Grant.app_id == party.app.id)) is None  # nothing decided
    approved = await decide(
        browser, path, found,
        [("audience", "groups"), ("group", "7a"), ("exclude_student", first), ("exclude_student", second),
         ("pupil_search", wanted), ("decision", "approve")],
    )  # fmt: skip
    assert approved.status_code == 303, approved.text[:500]


async def test_the_dashboard_picker_finds_pupils_and_hides_the_one_ticked(
    browser: httpx.AsyncClient, session: AsyncSession, connected: Connected
) -> None:
    csrf = await sign_in_admin(browser, connected.party)
    path = f"/dashboard/grants/{connected.grant.id}"
    page = await browser.get(path)
    labels = {pupil: label for pupil, (_, _, label) in pupils(page.text).items()}
    assert len(labels) == 12
    pupil = sorted(labels)[3]
    search = labels[pupil].split(",")[0]
    found = await browser.post(
        path + "/narrow",
        content=urlencode([("csrf_token", csrf), ("pupil_search", search), ("find_pupils", "find")]),
        headers=FORM,
    )
    assert found.status_code == 200
    listed = {p for p, (shown, _, _) in pupils(found.text).items() if shown}
    assert pupil in listed
    assert len(listed) < 12
    saved = await browser.post(
        path + "/narrow",
        content=urlencode([("csrf_token", csrf), ("exclude_student", pupil), ("pupil_search", search)]),
        headers=FORM,
    )
    assert saved.status_code == 303, saved.text[:500]
    grant = await session.get(Grant, connected.grant.id, populate_existing=True)
    assert grant is not None
    assert set(Audience.of(grant).exclude) == {pupil}
