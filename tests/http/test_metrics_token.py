"""`/metrics` behind `GATEWAY_METRICS_TOKEN`: open while unset, `Authorization: Bearer <token>` once set."""

from __future__ import annotations

import base64
import hmac
import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from gateway.app import create_app
from gateway.db.session import Database
from gateway.settings import Settings, SettingsError, load_settings
from tests.support.http import TEST_ISSUER, bearer

TOKEN = secrets.token_urlsafe(32)


@pytest.fixture
async def guarded(
    settings: Settings, test_database: Database, master_key_b64: str
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        settings.model_copy(update={"metrics_token": SecretStr(TOKEN)}),
        database=test_database,
        master_key=base64.b64decode(master_key_b64),
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=TEST_ISSUER) as client:
        yield client


async def test_unset_metrics_are_open(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert "gateway_http_requests_total" in response.text


async def test_the_token_opens_metrics(guarded: httpx.AsyncClient) -> None:
    for scheme in ("Bearer", "bearer", "BEARER"):
        response = await guarded.get("/metrics", headers={"authorization": f"{scheme} {TOKEN}"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        assert "gateway_http_requests_total" in response.text


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        f"Bearer {TOKEN[:-1]}",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN.upper()}" if TOKEN.upper() != TOKEN else "Bearer nope",
        f"Basic {base64.b64encode(f'metrics:{TOKEN}'.encode()).decode()}",
        TOKEN,
        "Bearer gw_sk_000000000000_" + "x" * 43,
    ],
)
async def test_anything_else_is_401_with_a_bearer_challenge(
    guarded: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"authorization": authorization}
    response = await guarded.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="metrics"'
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:gateway:problem:unauthorized"
    assert "gateway_http_requests_total" not in response.text
    assert TOKEN not in response.text


async def test_the_other_operations_endpoints_stay_open(guarded: httpx.AsyncClient) -> None:
    assert (await guarded.get("/healthz")).status_code == 200
    assert (await guarded.get("/readyz")).status_code == 200


async def test_the_comparison_is_constant_time(
    guarded: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr("gateway.health.router.hmac.compare_digest", spy)
    assert (await guarded.get("/metrics", headers=bearer("wrong"))).status_code == 401
    assert compared == [(b"wrong", TOKEN.encode())]


def test_the_setting(env_without_gateway: object, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().metrics_token is None
    monkeypatch.setenv("GATEWAY_METRICS_TOKEN", "")
    assert load_settings().metrics_token is None  # empty: as if unset
    monkeypatch.setenv("GATEWAY_METRICS_TOKEN", TOKEN)
    token = load_settings().metrics_token
    assert token is not None
    assert token.get_secret_value() == TOKEN
    assert TOKEN not in repr(load_settings())


@pytest.mark.parametrize(
    "value", ["short", "x" * 31, "x" * 513, "with a space " + "x" * 32, "é" * 40, "\t" * 40]
)
def test_a_weak_or_unsendable_token_stops_start_up(
    env_without_gateway: object, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("GATEWAY_METRICS_TOKEN", value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert str(raised.value) == (
        "GATEWAY_METRICS_TOKEN: must be 32 to 512 visible ASCII characters (no spaces)"
    )
    assert value not in str(raised.value)
