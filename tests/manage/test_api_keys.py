"""`/manage/v1/api-keys`: create (shown once), list (never a secret), revoke — by key and by admin session."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.manage.models import SchoolApiKey
from tests.support.accounts import Account, SignedIn
from tests.support.audit import audit_trail
from tests.support.http import bearer
from tests.support.school_keys import URL, prefix_of


async def test_a_key_creates_lists_and_revokes_keys(
    client: httpx.AsyncClient, token: str, account: Account, session: AsyncSession
) -> None:
    created = await client.post(URL, json={"name": "  Grants export  "}, headers=bearer(token))
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == {"key", "prefix", "name", "created_at"}
    assert body["key"].startswith(f"gw_sk_{body['prefix']}_")
    assert body["name"] == "Grants export"

    new_key_works = await client.get(URL, headers=bearer(body["key"]))
    assert new_key_works.status_code == 200
    listed = new_key_works.json()["api_keys"]
    assert [k["prefix"] for k in listed] == [prefix_of(token), body["prefix"]]
    assert listed[1] == {
        "prefix": body["prefix"],
        "name": "Grants export",
        "created_at": body["created_at"],
        "last_used_at": listed[1]["last_used_at"],
        "revoked_at": None,
    }
    assert listed[1]["last_used_at"] is not None  # this very request

    revoked = await client.delete(f"{URL}/{body['prefix']}", headers=bearer(token))
    assert revoked.status_code == 204
    assert revoked.content == b""
    assert (await client.get(URL, headers=bearer(body["key"]))).status_code == 401
    after = (await client.get(URL, headers=bearer(token))).json()["api_keys"]
    assert after[1]["revoked_at"] is not None
    assert after[0]["revoked_at"] is None

    row = await session.scalar(select(SchoolApiKey).where(SchoolApiKey.prefix == body["prefix"]))
    assert row is not None
    assert row.school_id == account.school.id
    assert row.created_by_admin_id is None  # made by a key, not an admin
    trail = await audit_trail(session, account)
    assert trail[-2:] == [
        ("api_key.created", f"api_key:{prefix_of(token)}", {"prefix": body["prefix"]}),
        ("api_key.revoked", f"api_key:{prefix_of(token)}", {"prefix": body["prefix"]}),
    ]


async def test_an_admin_session_creates_lists_and_revokes_keys(
    admin_browser: SignedIn, account: Account, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    browser = admin_browser.client
    created = await browser.post(URL, json={"name": "Timetable sync"}, headers=admin_browser.csrf)
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    prefix = created.json()["prefix"]
    assert (await client.get(URL, headers=bearer(key))).status_code == 200

    listed = await browser.get(URL)  # reading needs no CSRF token
    assert listed.status_code == 200
    assert [k["prefix"] for k in listed.json()["api_keys"]] == [prefix]

    assert (await browser.delete(f"{URL}/{prefix}", headers=admin_browser.csrf)).status_code == 204
    assert (await client.get(URL, headers=bearer(key))).status_code == 401

    row = await session.scalar(select(SchoolApiKey).where(SchoolApiKey.prefix == prefix))
    assert row is not None
    assert row.created_by_admin_id == account.admin.id
    trail = await audit_trail(session, account)
    actor = f"admin:{account.admin.id}"
    assert [event for event in trail if event[0].startswith("api_key.")] == [
        ("api_key.created", actor, {"prefix": prefix}),
        ("api_key.revoked", actor, {"prefix": prefix}),
    ]


async def test_the_list_never_holds_a_secret_or_hash(
    client: httpx.AsyncClient, token: str, session: AsyncSession
) -> None:
    created = (await client.post(URL, json={"name": "Second"}, headers=bearer(token))).json()
    response = await client.get(URL, headers=bearer(token))
    text = response.text
    rows = (await session.scalars(select(SchoolApiKey))).all()
    assert len(rows) == 2
    for secret in (token.split("_", 3)[3], created["key"].split("_", 3)[3]):
        assert secret not in text
    for row in rows:
        assert row.secret_hash.hex() not in text
        assert row.secret_hash.hex().upper() not in text
    assert "gw_sk_" not in text
    for entry in response.json()["api_keys"]:
        assert set(entry) == {"prefix", "name", "created_at", "last_used_at", "revoked_at"}


async def test_the_key_is_stored_only_as_its_keyed_hash(token: str, session: AsyncSession) -> None:
    row = await session.scalar(select(SchoolApiKey).where(SchoolApiKey.prefix == prefix_of(token)))
    assert row is not None
    secret = token.split("_", 3)[3]
    assert len(row.secret_hash) == 32
    assert secret.encode() not in row.secret_hash


async def test_revoking_twice_is_quiet_and_logged_once(
    client: httpx.AsyncClient, token: str, account: Account, session: AsyncSession
) -> None:
    prefix = (await client.post(URL, json={"name": "Short-lived"}, headers=bearer(token))).json()["prefix"]
    assert (await client.delete(f"{URL}/{prefix}", headers=bearer(token))).status_code == 204
    assert (await client.delete(f"{URL}/{prefix}", headers=bearer(token))).status_code == 204
    revocations = [e for e in await audit_trail(session, account) if e[0] == "api_key.revoked"]
    assert len(revocations) == 1


async def test_a_key_can_revoke_itself(client: httpx.AsyncClient, token: str) -> None:
    assert (await client.delete(f"{URL}/{prefix_of(token)}", headers=bearer(token))).status_code == 204
    assert (await client.get(URL, headers=bearer(token))).status_code == 401


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"name": "x" * 81}, "#/name"),
        ({"name": ""}, "#/name"),
        ({"name": "   "}, "#/name"),
        ({"name": "line\nbreak"}, "#/name"),
        ({"name": 42}, "#/name"),
        ({}, "#/name"),
        ({"name": "ok", "scopes": ["everything"]}, "#/scopes"),
    ],
)
async def test_bad_bodies_are_422_and_create_nothing(
    client: httpx.AsyncClient, token: str, session: AsyncSession, body: dict[str, object], pointer: str
) -> None:
    response = await client.post(URL, json=body, headers=bearer(token))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:gateway:problem:validation-error"
    assert [error["pointer"] for error in problem["errors"]] == [pointer]
    assert "x" * 81 not in response.text
    assert len((await session.scalars(select(SchoolApiKey))).all()) == 1


async def test_a_name_of_exactly_80_characters_is_fine(client: httpx.AsyncClient, token: str) -> None:
    response = await client.post(URL, json={"name": "é" * 80}, headers=bearer(token))
    assert response.status_code == 201
    assert response.json()["name"] == "é" * 80


async def test_wrong_content_type_is_415(client: httpx.AsyncClient, token: str) -> None:
    response = await client.post(
        URL,
        content=b"name=Script",
        headers={**bearer(token), "content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert response.json()["type"] == "urn:gateway:problem:unsupported-media-type"


async def test_malformed_json_is_400(client: httpx.AsyncClient, token: str) -> None:
    response = await client.post(
        URL, content=b'{"name": "Scr', headers={**bearer(token), "content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["type"] == "urn:gateway:problem:malformed-json"


@pytest.mark.parametrize("prefix", ["short", "x" * 13, "ABCDEFGHJK-M"])
async def test_a_malformed_prefix_is_422(client: httpx.AsyncClient, token: str, prefix: str) -> None:
    response = await client.delete(f"{URL}/{prefix}", headers=bearer(token))
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "prefix"


async def test_an_unknown_prefix_is_404(client: httpx.AsyncClient, token: str) -> None:
    response = await client.delete(f"{URL}/ABCDEFGHJKLM", headers=bearer(token))
    assert response.status_code == 404
    assert response.json()["type"] == "urn:gateway:problem:not-found"
