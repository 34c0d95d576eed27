"""Connector keys: missing, malformed, wrong and revoked keys get 401 and write nothing."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.connector import keys
from gateway.connector.models import ConnectorKey
from gateway.keys.keyring import Keyring
from gateway.mis.models import MisRecordRow
from tests.support.records import students

URL = "/connector/v1/students/batch"


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer gw_ck_short",
        "Bearer gw_at_ABCDEFGHJKLM_" + "a" * 43,
        "Bearer gw_ck_ABCDEFGHJKLM_" + "a" * 43,
        "Bearer " + "x" * 5000,
        "Bearer gw_ck_ABCDEFGHJKLM_" + "a" * 42 + "\u00e9",
    ],
)
async def test_bad_credentials_are_401(
    client: httpx.AsyncClient, authorization: str | None, session: AsyncSession
) -> None:
    headers = {} if authorization is None else {"authorization": authorization.encode("utf-8")}
    response = await client.post(URL, json={"upsert": students(1)}, headers=headers)  # type: ignore[arg-type]
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="connector"'
    assert response.headers["content-type"] == "application/problem+json"
    assert await session.scalar(select(MisRecordRow.record_id)) is None


async def test_wrong_secret_with_a_real_prefix(client: httpx.AsyncClient, token: str) -> None:
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    response = await client.post(URL, json={"upsert": []}, headers={"authorization": f"Bearer {tampered}"})
    assert response.status_code == 401


async def test_revoked_key(
    client: httpx.AsyncClient, token: str, session: AsyncSession, keyring: Keyring
) -> None:
    ok = await client.post(URL, json={"upsert": students(1)}, headers={"authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    prefix = token.split("_")[2]
    await keys.revoke_key(session, prefix, actor="operator")
    await session.commit()
    refused = await client.post(
        URL, json={"upsert": students(2)}, headers={"authorization": f"Bearer {token}"}
    )
    assert refused.status_code == 401


async def test_keys_are_stored_hashed_and_last_use_recorded(
    client: httpx.AsyncClient, token: str, session: AsyncSession
) -> None:
    row = await session.scalar(select(ConnectorKey))
    assert row is not None
    assert row.last_used_at is None
    secret = token.rsplit("_", 1)[1]
    assert secret.encode() not in row.secret_hash
    assert len(row.secret_hash) == 32
    await client.get("/connector/v1/status", headers={"authorization": f"Bearer {token}"})
    await session.refresh(row)
    assert row.last_used_at is not None
