"""Connected apps for the grants API, the dashboard and consent.grants: a school with pupils and groups (a
`tests.support.consent_flow.Party`), a live grant made directly, tokens minted directly, signed-in admins.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.access_log.models import DataAccess
from gateway.consent.audience import Audience
from gateway.consent.models import Grant, SensitiveApproval
from gateway.db.base import utcnow
from gateway.db.session import Database
from gateway.oauth import bearer
from gateway.scopes import CATALOGUE, expand, format_scopes
from gateway.settings import Settings
from gateway.tokens import issuance, refresh
from tests.support import http
from tests.support.accounts import csrf_from, sign_in
from tests.support.consent_flow import Party
from tests.support.school_keys import issue_key

# What the test app holds by default: its required scopes and two of its optional ones (one sensitive).
GRANTED = ("school", "groups", "students.basic", "students.demographics", "students.sen")
PUPILS = [f"stu-{index:05d}" for index in range(12)]  # tests/support/records.students(12)


@dataclass
class Connected:
    """A party whose app holds a live grant, with the school's API key."""

    party: Party
    grant: Grant
    key: str

    @property
    def url(self) -> str:
        return f"/manage/v1/grants/{self.grant.id}"

    @property
    def headers(self) -> dict[str, str]:
        return http.bearer(self.key)


async def connect(
    session: AsyncSession,
    party: Party,
    *,
    scopes: Iterable[str] = GRANTED,
    audience: dict[str, object] | None = None,
) -> Connected:
    grant = Grant(
        school_id=party.school.id,
        app_id=party.app.id,
        scopes=format_scopes(expand(scopes)),
        approved_by=party.account.admin.id,
    )
    grant.audience_json = Audience.parse(audience).stored_json()
    session.add(grant)
    await session.flush()
    for name in grant.scope_set:
        if CATALOGUE[name].sensitive:
            session.add(SensitiveApproval(grant_id=grant.id, scope=name, admin_id=party.account.admin.id))
    await session.commit()
    return Connected(party, grant, await issue_key(session, party.keyring, party.account, "Grants script"))


async def mint(session: AsyncSession, settings: Settings, connected: Connected) -> str:
    """A school access token for the grant, with every scope the grant holds, and a refresh token."""
    family = uuid.uuid4()
    minted = await issuance.school_access_token(
        session,
        connected.party.keyring,
        issuer=settings.issuer,
        app=connected.party.app,
        grant_id=connected.grant.id,
        school_id=connected.grant.school_id,
        family_id=family,
        scopes=connected.grant.scope_set,
        now=utcnow(),
    )
    await refresh.add_refresh_token(
        session,
        refresh.new_refresh_token(),
        family_id=family,
        app_id=connected.party.app.id,
        grant_id=connected.grant.id,
        school_id=connected.grant.school_id,
        scopes=connected.grant.scope_set,
        now=utcnow(),
    )
    await session.commit()
    return minted.token


async def token_check(database: Database, settings: Settings, token: str) -> bearer.SchoolToken:
    """What `SchoolTokenDep` gives the next request, from a fresh session (no stale identity map)."""
    async with database.sessionmaker() as fresh:
        checked = await bearer.authenticate(fresh, token, issuer=settings.issuer, now=utcnow())
    assert isinstance(checked, bearer.SchoolToken)
    return checked


async def record_access(session: AsyncSession, connected: Connected) -> DataAccess:
    row = DataAccess(
        school_id=connected.grant.school_id,
        app_id=connected.party.app.id,
        client_id=connected.party.app.client_id,
        grant_id=connected.grant.id,
        resource="students",
        fields="id first_name",
        record_count=3,
    )
    session.add(row)
    await session.commit()
    return row


async def sign_in_admin(browser: httpx.AsyncClient, party: Party) -> str:
    """Sign the party's admin in through the login form; the session's CSRF token."""
    response = await sign_in(browser, party.account.email, party.account.password)
    assert response.headers["location"] == "/dashboard", response.text[:300]
    return await csrf_from(browser, "/account")
