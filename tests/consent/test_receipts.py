"""Signed consent receipts (SPEC §3.6): one per grant decision, chained per grant, checked with the JWKS."""

from __future__ import annotations

import json
import string
from typing import Any

import httpx
import pytest
from joserfc import jws
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.consent import grants
from gateway.consent.models import ConsentReceipt, Grant
from gateway.consent.receipt_tokens import (
    RECEIPT_TYPE,
    InvalidReceipt,
    ReceiptFault,
    receipt_hash,
    sign_receipt,
    verify_receipt,
)
from gateway.consent.receipts import (
    ReceiptDecision,
    ReceiptSignerMissing,
    app_receipts,
    grant_receipts,
    record_receipt,
)
from gateway.consent.repository import GrantNotFound
from gateway.db.base import utcnow
from gateway.keys.keyring import Keyring
from gateway.keys.signing import ensure_signing_key, private_key
from gateway.scopes import allowed_fields
from tests.support.consent_flow import Party
from tests.support.grant_story import approve_widen_narrow_revoke
from tests.support.grants import Connected
from tests.support.http import TEST_ISSUER, bearer
from tests.support.world import World


async def _receipts(session: AsyncSession, grant_id: object) -> list[ConsentReceipt]:
    rows = await session.scalars(
        select(ConsentReceipt)
        .where(ConsentReceipt.grant_id == grant_id)
        .order_by(ConsentReceipt.seq)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def _jwks(client: httpx.AsyncClient) -> dict[str, dict[str, str]]:
    response = await client.get("/.well-known/jwks.json")
    return {key["kid"]: key for key in response.json()["keys"]}


def _verified(receipt: ConsentReceipt, keys: dict[str, dict[str, str]]) -> dict[str, Any]:
    _kid, claims = verify_receipt(receipt.jws, keys)
    return claims


async def test_every_decision_yields_one_chained_receipt(
    browser: httpx.AsyncClient, client: httpx.AsyncClient, party: Party, session: AsyncSession
) -> None:
    grant = await approve_widen_narrow_revoke(
        browser, client, party, session, narrowing={"remove_scopes": ["students.demographics"]}
    )

    receipts = await _receipts(session, grant.id)
    keys = await _jwks(client)
    assert [r.decision for r in receipts] == ["approved", "widened", "narrowed", "revoked"]
    assert [r.seq for r in receipts] == [1, 2, 3, 4]
    claims = [_verified(r, keys) for r in receipts]
    assert [c["prev_hash"] for c in claims] == [None, *(receipt_hash(r.jws) for r in receipts[:-1])]
    assert all(r.hash == receipt_hash(r.jws) for r in receipts)
    admin = f"admin:{party.account.admin.id}"
    first, widened, narrowed_claims, revoked = claims
    assert first["scopes"] == ["school", "groups", "students.basic"]
    assert first["fields"] == {
        resource: sorted(names)
        for resource, names in allowed_fields(["groups", "school", "students.basic"]).items()
    }
    assert first["actor"] == admin
    assert first["school"] == {"id": str(party.school.id), "name": party.school.name, "urn": party.school.urn}
    assert first["app"] == {"client_id": party.app.client_id, "name": party.app.name}
    assert first["developer"] == {"name": party.developer.developer.name}
    assert first["audience"] == {"whole_school": True, "group_ids": None, "excluded_count": 0}
    assert first["sensitive_approvals"] == []
    assert first["iss"] == TEST_ISSUER
    assert "students.sen" in widened["scopes"]
    assert "students.demographics" in widened["scopes"]
    [approval] = widened["sensitive_approvals"]
    assert approval["scope"] == "students.sen"
    assert approval["approved_by"] == admin
    assert "students.demographics" not in narrowed_claims["scopes"]
    assert narrowed_claims["actor"].startswith("api_key:")
    assert revoked["scopes"] == []
    assert revoked["fields"] == {}
    assert revoked["sensitive_approvals"] == []
    # no pupil data: no student id appears anywhere in any receipt
    text = json.dumps(claims)
    assert "stu-" not in text


async def test_a_narrowed_audience_is_summarised_without_pupil_ids(
    session: AsyncSession, connected: Connected, client: httpx.AsyncClient
) -> None:
    body = {"audience": {"groups": ["yr7"], "exclude": ["stu-00001", "stu-00002"]}}
    response = await client.post(f"{connected.url}/narrow", json=body, headers=connected.headers)
    assert response.status_code == 200, response.text
    [receipt] = await _receipts(session, connected.grant.id)
    claims = _verified(receipt, await _jwks(client))
    assert claims["audience"] == {"whole_school": False, "group_ids": ["yr7"], "excluded_count": 2}
    assert "stu-0000" not in receipt.jws
    assert "stu-0000" not in json.dumps(claims)


async def test_the_app_disconnecting_yields_a_disconnected_receipt(
    session: AsyncSession, connected: Connected, keyring: Keyring, client: httpx.AsyncClient
) -> None:
    world = World(session, keyring, TEST_ISSUER)
    app = connected.party.app
    token = await world.school_token(app, connected.grant, scopes=("school",))
    response = await client.post("/api/v1/app/disconnect", headers=bearer(token.token))
    assert response.status_code == 204, response.text
    [receipt] = await _receipts(session, connected.grant.id)
    claims = _verified(receipt, await _jwks(client))
    assert receipt.decision == claims["decision"] == "disconnected"
    assert claims["actor"] == f"app:{app.client_id}"


async def test_a_rolled_back_decision_leaves_no_receipt(session: AsyncSession, connected: Connected) -> None:
    grant, grant_id = connected.grant, connected.grant.id
    assert await grants.revoke_grant(session, grant, actor="operator", now=utcnow())
    assert len(await _receipts(session, grant_id)) == 1
    await session.rollback()
    count = await session.scalar(select(func.count()).where(ConsentReceipt.grant_id == grant_id))
    assert count == 0
    stored = await session.get(Grant, grant_id, populate_existing=True)
    assert stored is not None
    assert stored.revoked_at is None


async def test_a_revocation_that_finds_the_grant_ended_makes_no_second_receipt(
    session: AsyncSession, connected: Connected
) -> None:
    assert await grants.revoke_grant(session, connected.grant, actor="operator", now=utcnow())
    assert not await grants.revoke_grant(session, connected.grant, actor="operator", now=utcnow())
    assert [r.decision for r in await _receipts(session, connected.grant.id)] == ["revoked"]


async def test_a_session_without_a_signer_refuses_the_decision(
    session: AsyncSession, connected: Connected
) -> None:
    session.info.clear()
    with pytest.raises(ReceiptSignerMissing):
        await record_receipt(
            session, connected.grant, ReceiptDecision.REVOKED, actor="operator", now=utcnow()
        )


async def test_a_receipt_fails_when_any_byte_changes(
    session: AsyncSession, connected: Connected, client: httpx.AsyncClient
) -> None:
    await grants.revoke_grant(session, connected.grant, actor="operator", now=utcnow())
    await session.commit()
    [receipt] = await _receipts(session, connected.grant.id)
    keys = await _jwks(client)
    token = receipt.jws
    verify_receipt(token, keys)
    alphabet = string.ascii_letters + string.digits + "-_"
    for position, char in enumerate(token):
        for replacement in {alphabet[(alphabet.find(char) + 1) % len(alphabet)], ".", "="}:
            if replacement == char:
                continue
            altered = token[:position] + replacement + token[position + 1 :]
            with pytest.raises(InvalidReceipt):
                verify_receipt(altered, keys)
    for altered in (token + "A", token[:-1], "A" + token, token.replace(".", "..", 1)):
        with pytest.raises(InvalidReceipt):
            verify_receipt(altered, keys)


async def test_the_header_is_checked_before_the_key(
    session: AsyncSession, keyring: Keyring, client: httpx.AsyncClient
) -> None:
    key = private_key(keyring.master_key, await ensure_signing_key(session, keyring.master_key))
    await session.commit()
    keys = await _jwks(client)
    claims = {"iss": "x", "jti": "j", "iat": 0, "grant_id": "g", "seq": 1, "decision": "approved"}
    claims |= {"school": {}, "app": {}, "prev_hash": None}
    good = sign_receipt(key, claims)
    assert verify_receipt(good, keys)[1] == claims
    at_jwt = jws.serialize_compact({"alg": "ES256", "typ": "at+jwt", "kid": key.kid}, b"{}", key)
    with pytest.raises(InvalidReceipt) as caught:
        verify_receipt(at_jwt, keys)
    assert caught.value.reason is ReceiptFault.WRONG_TYPE
    with pytest.raises(InvalidReceipt) as caught:
        verify_receipt(good, {})
    assert caught.value.reason is ReceiptFault.UNKNOWN_KEY
    no_claims = jws.serialize_compact({"alg": "ES256", "typ": RECEIPT_TYPE, "kid": key.kid}, b"{}", key)
    with pytest.raises(InvalidReceipt) as caught:
        verify_receipt(no_claims, keys)
    assert caught.value.reason is ReceiptFault.MISSING_CLAIMS


async def test_reading_is_bound_to_the_school_and_to_the_app(
    session: AsyncSession, connected: Connected, other_connected: Connected
) -> None:
    for pair in (connected, other_connected):
        await grants.revoke_grant(session, pair.grant, actor="operator", now=utcnow())
    page = await grant_receipts(session, connected.party.school.id, connected.grant.id)
    assert [r.row.grant_id for r in page.receipts] == [connected.grant.id]
    with pytest.raises(GrantNotFound):
        await grant_receipts(session, connected.party.school.id, other_connected.grant.id)
    mine = await app_receipts(session, connected.party.app.id)
    assert [r.row.grant_id for r in mine.receipts] == [connected.grant.id]
    assert mine.receipts[0].claims["decision"] == "revoked"
