"""`GET /.well-known/jwks.json` (RFC 7517 §5, RFC 9068 §4): the public signing keys, before and after a
rotation."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.base import utcnow
from gateway.keys.signing import active_signing_key, rotate_signing_key
from tests.support.jwks import PUBLIC_MEMBERS

pytestmark = pytest.mark.usefixtures("fresh_jwks_cache")


async def test_jwks_endpoint(client: httpx.AsyncClient, session: AsyncSession, master_key: bytes) -> None:
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    body = response.json()
    assert set(body) == {"keys"}
    [jwk] = body["keys"]
    assert set(jwk) == PUBLIC_MEMBERS
    assert (jwk["kty"], jwk["crv"], jwk["use"], jwk["alg"]) == ("EC", "P-256", "sig", "ES256")
    assert jwk["kid"] == (await active_signing_key(session, master_key)).kid

    await rotate_signing_key(session, master_key, now=utcnow())
    await session.commit()
    rotated = (await client.get("/.well-known/jwks.json")).json()["keys"]
    assert [k["kid"] for k in rotated][1] == jwk["kid"]
    assert len(rotated) == 2
    assert all(set(k) == PUBLIC_MEMBERS for k in rotated)
