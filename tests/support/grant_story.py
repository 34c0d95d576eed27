"""One grant's whole life through the real front doors, for tests that check what each decision leaves
behind (receipts, webhooks): approved on the consent page (with TOTP), widened by incremental consent with an
optional and a sensitive scope, narrowed and revoked through the school's API."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.consent.models import Grant
from gateway.consent.repository import live_grant
from tests.support.consent_flow import Party, authorize_url, decide, enrol_totp, open_consent
from tests.support.http import bearer
from tests.support.school_keys import issue_key

FIRST = "school groups students.basic"
EVERYTHING = "school groups students.basic students.demographics students.sen"


async def approve_widen_narrow_revoke(
    browser: httpx.AsyncClient,
    client: httpx.AsyncClient,
    party: Party,
    session: AsyncSession,
    *,
    narrowing: dict[str, Any],
) -> Grant:
    """The grant, after each of its four decisions; `narrowing` is the body of `POST …/narrow`."""
    totp = await enrol_totp(session, party.keyring, party.account)
    path, page = await open_consent(browser, party, authorize_url(party, scope=FIRST), totp=totp)
    assert (await decide(browser, path, page, [("decision", "approve")])).status_code == 303
    grant = await live_grant(session, party.school.id, party.app.id)
    assert grant is not None
    path, page = await open_consent(browser, party, authorize_url(party, scope=EVERYTHING))
    fields = [("scope", "students.demographics"), ("scope", "students.sen")]
    fields += [("confirm_sensitive", "students.sen"), ("decision", "approve")]
    assert (await decide(browser, path, page, fields)).status_code == 303
    key = await issue_key(session, party.keyring, party.account, "Grant story")
    url = f"/manage/v1/grants/{grant.id}"
    narrowed = await client.post(f"{url}/narrow", json=narrowing, headers=bearer(key))
    assert narrowed.status_code == 200, narrowed.text
    assert (await client.post(f"{url}/revoke", headers=bearer(key))).status_code == 200
    return grant
