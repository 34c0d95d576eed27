"""Tenant isolation (SPEC §5): one school's key or admin never sees, nor revokes, another school's keys."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.base import utcnow
from gateway.manage.models import SchoolApiKey
from gateway.manage.repository import SchoolApiKeys
from tests.support.accounts import Account, SignedIn
from tests.support.audit import audit_trail
from tests.support.http import bearer
from tests.support.school_keys import URL, prefix_of


async def test_a_key_cannot_see_or_revoke_another_schools_keys(
    client: httpx.AsyncClient, token: str, other_token: str, other_account: Account, session: AsyncSession
) -> None:
    listed = (await client.get(URL, headers=bearer(token))).json()["api_keys"]
    assert [k["prefix"] for k in listed] == [prefix_of(token)]

    foreign = await client.delete(f"{URL}/{prefix_of(other_token)}", headers=bearer(token))
    assert foreign.status_code == 404
    unknown = await client.delete(f"{URL}/ABCDEFGHJKLM", headers=bearer(token))
    assert foreign.json()["title"] == unknown.json()["title"]
    assert foreign.json()["type"] == unknown.json()["type"]

    assert (await client.get(URL, headers=bearer(other_token))).status_code == 200  # still live
    assert not [e for e in await audit_trail(session, other_account) if e[0] == "api_key.revoked"]


async def test_an_admin_session_cannot_see_or_revoke_another_schools_keys(
    admin_browser: SignedIn, other_token: str, client: httpx.AsyncClient
) -> None:
    browser = admin_browser.client
    assert (await browser.get(URL)).json() == {"api_keys": []}
    response = await browser.delete(f"{URL}/{prefix_of(other_token)}", headers=admin_browser.csrf)
    assert response.status_code == 404
    assert (await client.get(URL, headers=bearer(other_token))).status_code == 200


async def test_keys_created_by_a_session_belong_to_the_admins_school(
    admin_browser: SignedIn, account: Account, other_token: str, client: httpx.AsyncClient
) -> None:
    created = await admin_browser.client.post(URL, json={"name": "Mine"}, headers=admin_browser.csrf)
    prefix = created.json()["prefix"]
    other_list = (await client.get(URL, headers=bearer(other_token))).json()["api_keys"]
    assert prefix not in [k["prefix"] for k in other_list]
    assert [k["prefix"] for k in (await admin_browser.client.get(URL)).json()["api_keys"]] == [prefix]


async def test_repository_misses_rows_of_another_school(
    session: AsyncSession, account: Account, other_account: Account, token: str
) -> None:
    prefix = prefix_of(token)
    mine = SchoolApiKeys(session, account.school.id)
    theirs = SchoolApiKeys(session, other_account.school.id)
    assert [row.prefix for row in await mine.all()] == [prefix]
    assert await theirs.all() == []
    assert await theirs.get(prefix) is None
    assert await theirs.revoke(prefix, utcnow()) is False
    row = await mine.get(prefix)
    assert row is not None
    await session.refresh(row)
    assert row.revoked_at is None
    try:
        await theirs.add(
            SchoolApiKey(school_id=account.school.id, prefix="ABCDEFGHJKLM", secret_hash=b"\0" * 32, name="x")
        )
    except ValueError:
        pass
    else:
        raise AssertionError("a repository must refuse another school's row")
