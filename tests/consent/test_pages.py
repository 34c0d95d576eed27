"""The consent page (SPEC §3.3, §9): required, optional and sensitive scopes, audience, incremental consent,
deny, and the authorisation log — driven through the pages as a browser would."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.models import App
from gateway.audit.models import AuditEvent
from gateway.consent.audience import Audience
from gateway.consent.models import AuthorizationRequest, Grant, SensitiveApproval
from gateway.db.base import utcnow
from gateway.tokens.hashing import digest
from gateway.tokens.models import AuthorizationCode
from tests.support.accounts import csrf_from
from tests.support.apps import LOOPBACK_REDIRECT, REDIRECT_URI
from tests.support.consent_flow import (
    Party,
    authorize_url,
    csrf_of,
    decide,
    enrol_totp,
    make_party,
    open_consent,
    query_of,
    sign_in,
)
from tests.support.http import TEST_ISSUER
from tests.support.pkce import Pkce

EVERYTHING = "school groups students.basic students.demographics attendance.summaries students.sen"


async def events(session: AsyncSession, party: Party) -> list[AuditEvent]:
    rows = await session.scalars(
        select(AuditEvent).where(AuditEvent.school_id == party.school.id).order_by(AuditEvent.seq)
    )
    return list(rows)


async def grant_of(session: AsyncSession, party: Party) -> Grant | None:
    return await session.scalar(
        select(Grant)
        .where(Grant.app_id == party.app.id, Grant.school_id == party.school.id, Grant.revoked_at.is_(None))
        .execution_options(populate_existing=True)
    )


def approved_code(response: httpx.Response, state: str | None = None) -> str:
    assert response.status_code == 303, response.text[:800]
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    query = query_of(location)
    assert query["iss"] == TEST_ISSUER
    if state is not None:
        assert query["state"] == state
    return query["code"]


async def test_the_page_shows_the_request_in_plain_english(browser: httpx.AsyncClient, party: Party) -> None:
    _, page = await open_consent(browser, party, authorize_url(party, scope=EVERYTHING))
    text = page.text
    assert "Homework Planner" in text
    assert "Synthetic Apps Ltd" in text
    assert 'href="https://planner.example.com/privacy"' in text
    assert "Pupils: basic details" in text
    # SPEC §9 names: a checkbox per optional scope, a confirmation per sensitive scope, two decisions.
    for optional in ("students.demographics", "attendance.summaries", "students.sen"):
        assert f'name="scope" value="{optional}"' in text
        assert f'name="scope" value="{optional}" checked' not in text  # never pre-ticked
    assert 'name="confirm_sensitive" value="students.sen"' in text
    assert 'name="confirm_sensitive" value="students.demographics"' not in text
    assert 'name="scope" value="students.basic"' not in text  # required: shown, not ticked one by one
    assert "sen_provision" in text  # the fields a sensitive scope reveals
    assert 'name="decision" value="approve"' in text
    assert 'name="decision" value="deny"' in text
    assert "Year 7" in text
    assert "7A" in text
    assert "7 Maths set 1" in text
    assert "Red house" not in text  # houses are not an audience choice
    assert page.headers["x-frame-options"] == "DENY"
    assert "form-action 'self' https://planner.example.com" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def policy_of(response: httpx.Response) -> dict[str, list[str]]:
    """The one Content-Security-Policy a response sets, as directive → sources (no duplicate directives)."""
    [header] = response.headers.get_list("content-security-policy")
    assert "," not in header  # one policy, not a list of them
    directives: dict[str, list[str]] = {}
    for directive in header.split(";"):
        name, *sources = directive.split()
        assert name not in directives
        directives[name] = sources
    return directives


BASE_POLICY = {
    "default-src": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
}


async def test_the_policy_allows_exactly_the_apps_origin_as_the_form_target(
    browser: httpx.AsyncClient, party: Party
) -> None:
    _, page = await open_consent(browser, party, authorize_url(party))
    assert policy_of(page) == {**BASE_POLICY, "form-action": ["'self'", "https://planner.example.com"]}
    _, loopback = await open_consent(browser, party, authorize_url(party, redirect_uri=LOOPBACK_REDIRECT))
    assert policy_of(loopback) == {**BASE_POLICY, "form-action": ["'self'", "http://127.0.0.1:8765"]}


@pytest.mark.parametrize(
    "stored",
    [
        "https://planner.example.com;script-src 'unsafe-inline'/cb",
        "https://planner.example.com,script-src/cb",
        "https://a;b.example/cb",
        "https://a,b.example/cb",
        "https://exa mple.com/cb",
        "https://evil.example 'unsafe-inline'/cb",
        "http://planner.example.com/cb",
        "javascript://planner.example.com/cb",
    ],
)
async def test_a_stored_redirect_uri_that_fails_todays_rules_adds_nothing_to_the_policy(
    browser: httpx.AsyncClient, party: Party, session: AsyncSession, stored: str
) -> None:
    """A URI registered before hosts were checked (written here straight to the row) reaches the page,
    but the policy is the default one: no source, no directive, no second policy from it."""
    await session.execute(
        update(App)
        .where(App.id == party.app.id)
        .values(redirect_uris_json=json.dumps([REDIRECT_URI, stored]))
    )
    await session.commit()
    _, page = await open_consent(browser, party, authorize_url(party, redirect_uri=stored))
    assert policy_of(page) == BASE_POLICY


async def test_an_ipv6_loopback_origin_is_not_written_into_the_policy(
    browser: httpx.AsyncClient, party: Party, session: AsyncSession
) -> None:
    """CSP's host-source grammar has no IPv6 literal: browsers would ignore `http://[::1]:8765`."""
    ipv6 = "http://[::1]:8765/callback"
    await session.execute(
        update(App).where(App.id == party.app.id).values(redirect_uris_json=json.dumps([REDIRECT_URI, ipv6]))
    )
    await session.commit()
    _, page = await open_consent(browser, party, authorize_url(party, redirect_uri=ipv6))
    assert policy_of(page) == BASE_POLICY


async def test_approve_required_only(browser: httpx.AsyncClient, party: Party, session: AsyncSession) -> None:
    path, page = await open_consent(browser, party, authorize_url(party, scope=EVERYTHING, state="st-1"))
    code = approved_code(await decide(browser, path, page, [("decision", "approve")]), "st-1")
    grant = await grant_of(session, party)
    assert grant is not None
    assert grant.scopes == "school groups students.basic"
    assert grant.audience_json is None
    assert grant.approved_by == party.account.admin.id
    row = await session.scalar(select(AuthorizationCode).where(AuthorizationCode.code_hash == digest(code)))
    assert row is not None
    assert row.grant_id == grant.id
    assert row.redirect_uri == REDIRECT_URI
    assert row.scopes == "school groups students.basic"
    assert row.expires_at - row.created_at == timedelta(seconds=60)
    kinds = [event.event_type for event in await events(session, party)]
    assert kinds[-2:] == ["request.created", "grant.approved"]
    approved = (await events(session, party))[-1]
    assert approved.actor == f"admin:{party.account.admin.id}"
    assert '"scopes_added":"school groups students.basic"' in approved.details


async def test_optional_scopes_only_when_ticked(
    browser: httpx.AsyncClient, party: Party, session: AsyncSession
) -> None:
    path, page = await open_consent(browser, party, authorize_url(party, scope=EVERYTHING))
    approved_code(
        await decide(browser, path, page, [("scope", "students.demographics"), ("decision", "approve")])
    )
    grant = await grant_of(session, party)
    assert grant is not None
    assert grant.scopes == "school groups students.basic students.demographics"


async def test_sensitive_scope_needs_totp(
    browser: httpx.AsyncClient, party: Party, session: AsyncSession
) -> None:
    path, page = await open_consent(browser, party, authorize_url(party, scope=EVERYTHING))
    assert "set one up" in page.text
    refused = await decide(
        browser, path, page,
        [("scope", "students.sen"), ("confirm_sensitive", "students.sen"), ("decision", "approve")],
    )  # fmt: skip
    assert refused.status_code == 422
    assert "authenticator app" in refused.text
    assert 'name="scope" value="students.sen" checked' in refused.text  # choices kept
    assert await grant_of(session, party) is None


async def test_sensitive_scope_needs_its_own_confirmation(
    browser: httpx.AsyncClient, party: Party, session: AsyncSession
) -> None:
    totp = await enrol_totp(session, party.keyring, party.account)
    path, page = await open_consent(browser, party, authorize_url(party, scope=EVERYTHING), totp=totp)
    ticked_only = await decide(browser, path, page, [("scope", "students.sen"), ("decision", "approve")])
    assert ticked_only.status_code == 422
    assert "tick its confirmation too" in ticked_only.text
    confirmed_only = await decide(
        browser, path, page, [("confirm_sensitive", "students.sen"), ("decision", "approve")]
    )
    assert confirmed_only.status_code == 422
    assert await grant_of(session, party) is None
    before = utcnow()
    approved_code(
        await decide(
            browser, path, page,
            [("scope", "students.sen"), ("confirm_sensitive", "students.sen"), ("decision", "approve")],
        )
    )  # fmt: skip
    grant = await grant_of(session, party)
    assert grant is not None
    assert "students.sen" in grant.scope_set
    approval = await session.get(SensitiveApproval, (grant.id, "students.sen"))
    assert approval is not None
    assert approval.admin_id == party.account.admin.id
    assert approval.approved_at >= before
    last = (await events(session, party))[-1]
    assert '"sensitive_approved":"students.sen"' in last.details


async def test_a_required_sensitive_scope_must_be_confirmed(
    browser: httpx.AsyncClient, party: Party, session: AsyncSession
) -> None:
    party.app.required_scopes = "school groups students.basic students.medical"
    await session.commit()
    totp = await enrol_totp(session, party.keyring, party.account)
    path, page = await open_consent(browser, party, authorize_url(party, scope=None), totp=totp)
    assert 'name="confirm_sensitive" value="students.medical"' in page.text
    refused = await decide(browser, path, page, [("decision", "approve")])
    assert refused.status_code == 422
    assert "Confirm that you agree" in refused.text
    approved_code(
        await decide(
            browser, path, page, [("confirm_sensitive", "students.medical"), ("decision", "approve")]
        )
    )
    grant = await grant_of(session, party)
    assert grant is not None
    assert "students.medical" in grant.scope_set


async def test_deny(browser: httpx.AsyncClient, party: Party, session: AsyncSession) -> None:
    path, page = await open_consent(browser, party, authorize_url(party, state="st-9"))
    response = await decide(browser, path, page, [("scope", "students.demographics"), ("decision", "deny")])
    assert response.status_code == 303
    query = query_of(response.headers["location"])
    assert query == {
        "error": "access_denied",
        "error_description": "The school declined the request.",
        "state": "st-9",
        "iss": TEST_ISSUER,
    }
    assert await grant_of(session, party) is None
    assert (await events(session, party))[-1].event_type == "request.denied"
    again = await decide(browser, path, page, [("decision", "approve")])
    assert again.status_code == 400
    assert "already been answered" in again.text


async def test_audience_groups_and_exclusions(
    browser: httpx.AsyncClient, party: Party, session: AsyncSession
) -> None:
    path, page = await open_consent(browser, party, authorize_url(party))
    no_group = await decide(browser, path, page, [("audience", "groups"), ("decision", "approve")])
    assert no_group.status_code == 422
    assert "at least one group" in no_group.text
    unknown = await decide(
        browser, path, page, [("audience", "groups"), ("group", "no-such-group"), ("decision", "approve")]
    )
    assert unknown.status_code == 422
    house = await decide(
        browser, path, page, [("audience", "groups"), ("group", "house-red"), ("decision", "approve")]
    )
    assert house.status_code == 422
    approved_code(
        await decide(
            browser, path, page,
            [("audience", "groups"), ("group", "7a"), ("group", "7ma1"), ("exclude_student", "stu-00001"),
             ("decision", "approve")],
        )
    )  # fmt: skip
    grant = await grant_of(session, party)
    assert grant is not None
    assert Audience.of(grant).stored() == {"groups": ["7a", "7ma1"], "exclude": ["stu-00001"]}
    last = (await events(session, party))[-1]
    assert (
        '"audience":{"excluded_count":1,"group_count":2,"group_ids":["7a","7ma1"],"kind":"groups"}'
        in last.details
    )


async def test_incremental_consent_keeps_the_grant_and_asks_only_for_what_is_new(
    browser: httpx.AsyncClient, party: Party, session: AsyncSession
) -> None:
    path, page = await open_consent(browser, party, authorize_url(party))
    approved_code(
        await decide(browser, path, page, [("audience", "groups"), ("group", "yr7"), ("decision", "approve")])
    )
    first = await grant_of(session, party)
    assert first is not None
    path, page = await open_consent(browser, party, authorize_url(party, scope="students.demographics"))
    assert "Already shared with this app" in page.text
    assert 'name="scope" value="students.demographics"' in page.text
    assert "The app needs all of these" not in page.text  # required scopes were granted before
    assert 'value="yr7" checked' in page.text  # the audience so far is the starting point
    code = approved_code(
        await decide(
            browser, path, page,
            [("scope", "students.demographics"), ("audience", "groups"), ("group", "yr7"),
             ("decision", "approve")],
        )
    )  # fmt: skip
    widened = await grant_of(session, party)
    assert widened is not None
    assert widened.id == first.id
    assert widened.scopes == "school groups students.basic students.demographics"
    row = await session.scalar(select(AuthorizationCode).where(AuthorizationCode.code_hash == digest(code)))
    assert row is not None
    assert row.scopes == "school groups students.basic students.demographics"
    approved = (await events(session, party))[-1]
    assert '"incremental":true' in approved.details
    assert '"scopes_added":"students.demographics"' in approved.details


async def test_nothing_new_reconnects(
    browser: httpx.AsyncClient, party: Party, session: AsyncSession
) -> None:
    path, page = await open_consent(browser, party, authorize_url(party))
    approved_code(await decide(browser, path, page, [("decision", "approve")]))
    path, page = await open_consent(browser, party, authorize_url(party))
    assert "asks for nothing new" in page.text
    approved_code(await decide(browser, path, page, [("decision", "approve")]))


async def test_an_admin_of_another_school_is_refused(
    browser: httpx.AsyncClient, party: Party, session: AsyncSession
) -> None:
    other = await make_party(session, party.keyring, "office@other.example.org")
    response = await browser.get(authorize_url(party, school_id=str(other.school.id), state="st-2"))
    path = response.headers["location"]
    await sign_in(browser, party.account, next_path=path)
    refused = await browser.get(path)
    assert refused.status_code == 303
    query = query_of(refused.headers["location"])
    assert query["error"] == "access_denied"
    assert query["state"] == "st-2"
    assert await session.scalar(select(Grant).where(Grant.school_id == other.school.id)) is None


async def test_a_form_for_an_unknown_scope_or_a_bad_decision(
    browser: httpx.AsyncClient, party: Party, session: AsyncSession
) -> None:
    path, page = await open_consent(browser, party, authorize_url(party))
    smuggled = await decide(browser, path, page, [("scope", "students.medical"), ("decision", "approve")])
    assert smuggled.status_code == 422
    no_decision = await decide(browser, path, page, [])
    assert no_decision.status_code == 422
    both = await decide(browser, path, page, [("decision", "approve"), ("decision", "deny")])
    assert both.status_code == 422
    long_value = await decide(browser, path, page, [("group", "g" * 5000), ("decision", "approve")])
    assert long_value.status_code == 422
    assert await grant_of(session, party) is None


async def test_csrf_and_session_are_required(
    browser: httpx.AsyncClient, party: Party, session: AsyncSession
) -> None:
    path, page = await open_consent(browser, party, authorize_url(party))
    wrong = await browser.post(path, data={"csrf_token": "wrong", "decision": "approve"})
    assert wrong.status_code == 403
    missing = await browser.post(path, data={"decision": "approve"})
    assert missing.status_code == 403
    browser.cookies.clear()
    signed_out = await browser.post(path, data={"csrf_token": csrf_of(page), "decision": "approve"})
    assert signed_out.status_code == 401
    assert await grant_of(session, party) is None


async def test_expired_and_unknown_requests(
    browser: httpx.AsyncClient, party: Party, session: AsyncSession
) -> None:
    path, page = await open_consent(browser, party, authorize_url(party))
    await session.execute(update(AuthorizationRequest).values(expires_at=utcnow() - timedelta(seconds=1)))
    await session.commit()
    gone = await decide(browser, path, page, [("decision", "approve")])
    assert gone.status_code == 400
    assert "expired" in gone.text
    for unknown in ("/consent/unknown", "/consent/" + "x" * 43, "/consent/" + "x" * 5000):
        assert (await browser.get(unknown)).status_code == 400


@pytest.mark.parametrize(
    "next_path", ["https://evil.example/", "//evil.example", "/account", "/consent/../x"]
)
async def test_sign_in_returns_only_to_a_consent_page(
    browser: httpx.AsyncClient, party: Party, next_path: str
) -> None:
    token = await csrf_from(browser, "/login")
    response = await browser.post(
        "/login",
        data={
            "email": party.account.email,
            "password": party.account.password,
            "csrf_token": token,
            "next": next_path,
        },
    )
    assert response.headers["location"] == "/dashboard"


async def test_pkce_challenge_is_carried_to_the_code(
    browser: httpx.AsyncClient, party: Party, session: AsyncSession
) -> None:
    pkce = Pkce()
    path, page = await open_consent(browser, party, authorize_url(party, pkce))
    code = approved_code(await decide(browser, path, page, [("decision", "approve")]))
    row = await session.scalar(select(AuthorizationCode).where(AuthorizationCode.code_hash == digest(code)))
    assert row is not None
    assert row.code_challenge == pkce.challenge


async def test_denying_an_incremental_request_leaves_the_existing_grant_as_it_was(
    browser: httpx.AsyncClient, party: Party, session: AsyncSession
) -> None:
    path, page = await open_consent(browser, party, authorize_url(party))
    approved_code(await decide(browser, path, page, [("decision", "approve")]))
    before = await grant_of(session, party)
    assert before is not None
    scopes, audience, updated = before.scopes, before.audience_json, before.updated_at
    path, page = await open_consent(browser, party, authorize_url(party, scope="students.demographics"))
    denied = await decide(browser, path, page, [("scope", "students.demographics"), ("decision", "deny")])
    assert query_of(denied.headers["location"])["error"] == "access_denied"
    after = await grant_of(session, party)
    assert after is not None
    assert (after.id, after.scopes, after.audience_json, after.updated_at) == (
        before.id, scopes, audience, updated,
    )  # fmt: skip
    assert after.revoked_at is None
