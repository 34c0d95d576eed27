"""While PostgreSQL is away (a restart), requests get 503 with Retry-After, never a 500; once it is back,
the next request is answered normally (issue 18, item 2)."""

from __future__ import annotations

import base64

import httpx
import pytest

from gateway.settings import Settings
from tests.support.tcp_proxy import app_behind_proxy

pytestmark = pytest.mark.postgres_only

UNKNOWN_KEY = {"authorization": "Bearer gw_sk_000000000000_" + "x" * 43}


def _unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"


async def test_requests_during_an_outage_get_503_and_the_first_after_it_is_answered(
    settings: Settings, master_key_b64: str
) -> None:
    master_key = base64.b64decode(master_key_b64)
    async with app_behind_proxy(settings, master_key=master_key, connect_timeout=1.0) as (client, proxy):
        assert (await client.get("/manage/v1/api-keys", headers=UNKNOWN_KEY)).status_code == 401
        await proxy.stop()  # down: the pooled connection dies, new ones are refused
        for _ in range(3):
            refused = await client.get("/manage/v1/api-keys", headers=UNKNOWN_KEY)
            _unavailable(refused)
            assert refused.headers["content-type"] == "application/problem+json"
        token = await client.post("/oauth/token", data={"grant_type": "client_credentials"})
        _unavailable(token)
        assert token.json()["error"] == "server_error"  # RFC 6749 JSON on /oauth/
        assert (await client.get("/readyz")).status_code == 503
        await proxy.start()  # back: the very next request is answered
        assert (await client.get("/manage/v1/api-keys", headers=UNKNOWN_KEY)).status_code == 401
        assert (await client.get("/readyz")).status_code == 200
