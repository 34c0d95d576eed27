"""`DELETE /manage/v1/connector` and `GET /manage/v1/deletions`: a school's own, by its key or admin."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.connector.models import ConnectorKey
from gateway.email.models import OutboxMessage
from gateway.keys.keyring import Keyring
from tests.support.accounts import Account, SignedIn, csrf_from, sign_in
from tests.support.audit import events_of
from tests.support.connector_keys import issue_connector_key
from tests.support.http import bearer
from tests.support.school_keys import issue_key, prefix_of

CONNECTOR = "/manage/v1/connector"
DELETIONS = "/manage/v1/deletions"


async def test_a_school_deletes_its_connector_through_its_key(
    client: httpx.AsyncClient,
    session: AsyncSession,
    keyring: Keyring,
    account: Account,
    other_account: Account,
) -> None:
    token = await issue_key(session, keyring, account)
    mine = await issue_connector_key(session, keyring, account.school)
    theirs = await issue_connector_key(session, keyring, other_account.school)

    deleted = await client.delete(CONNECTOR, headers=bearer(token))
    assert deleted.status_code == 202, deleted.text
    body = deleted.json()
    assert (body["rule"], body["state"], body["requested_by"]) == (
        "connector_deleted",
        "pending",
        f"api_key:{prefix_of(token)}",
    )
    connector = await client.get("/connector/v1/status", headers=bearer(mine))
    assert connector.status_code == 401  # the MIS can no longer sync
    assert (await client.get("/connector/v1/status", headers=bearer(theirs))).status_code == 200
    again = await client.delete(CONNECTOR, headers=bearer(token))
    assert again.status_code == 202
    assert again.json()["id"] == body["id"]

    listed = await client.get(DELETIONS, headers=bearer(token))
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["deletions"]] == [body["id"]]
    [(actor, details)] = await events_of(session, account.school.id, "connector.deleted")
    assert actor == f"api_key:{prefix_of(token)}"
    assert details["deletion_id"] == body["id"]
    mails = await session.scalars(
        select(OutboxMessage.subject).where(OutboxMessage.to_address == account.email)
    )
    assert "MIS connector was deleted" in " ".join(mails)

    other_token = await issue_key(session, keyring, other_account)
    assert (await client.get(DELETIONS, headers=bearer(other_token))).json() == {"deletions": []}
    keys = await session.scalars(
        select(ConnectorKey.revoked_at).where(ConnectorKey.school_id == other_account.school.id)
    )
    assert list(keys) == [None]


async def test_an_admin_session_needs_the_csrf_header(browser: httpx.AsyncClient, account: Account) -> None:
    await sign_in(browser, account.email, account.password)
    signed = SignedIn(browser, await csrf_from(browser, "/account"))
    refused = await browser.delete(CONNECTOR)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    accepted = await browser.delete(CONNECTOR, headers=signed.csrf)
    assert accepted.status_code == 202
    assert accepted.json()["requested_by"] == f"admin:{account.admin.id}"


async def test_without_credentials_nothing_happens(client: httpx.AsyncClient, session: AsyncSession) -> None:
    for headers in ({}, {"authorization": "Bearer gw_sk_nope"}, {"authorization": "Bearer " + "x" * 5000}):
        response = await client.delete(CONNECTOR, headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")
        assert (await client.get(DELETIONS, headers=headers)).status_code == 401
    assert await session.scalar(select(ConnectorKey.id).where(ConnectorKey.revoked_at.is_not(None))) is None
