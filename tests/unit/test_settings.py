"""Settings: one object from GATEWAY_* variables, validated at start-up with one-line errors."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from gateway.hosts import is_loopback_host
from gateway.keys.master import resolve_master_key
from gateway.settings import Environment, Settings, SettingsError, load_settings

KEY = base64.b64encode(bytes(range(32))).decode()


@pytest.mark.usefixtures("env_without_gateway")
def test_defaults_are_the_embedded_sqlite_demo() -> None:
    settings = load_settings()
    assert settings.environment is Environment.DEVELOPMENT
    assert settings.resolved_database_url == "sqlite+aiosqlite:///var/gateway.db"
    assert settings.is_sqlite
    assert settings.max_body_bytes == 1024 * 1024


def test_environment_variables_are_read(env_without_gateway: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_DATABASE_URL", "postgresql+asyncpg://u@db.internal/gw")
    monkeypatch.setenv("GATEWAY_ISSUER", "https://gateway.example.org/")
    monkeypatch.setenv("GATEWAY_MAX_BODY_BYTES", "2048")
    settings = load_settings()
    assert not settings.is_sqlite
    assert settings.issuer == "https://gateway.example.org"
    assert settings.max_body_bytes == 2048


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("GATEWAY_ISSUER", "ftp://gateway.example.org", "GATEWAY_ISSUER: must be an absolute http(s) URL"),
        ("GATEWAY_ISSUER", "http://gateway.example.org", "GATEWAY_ISSUER: must use https unless"),
        ("GATEWAY_ISSUER", "https://gateway.example.org/?x=1", "GATEWAY_ISSUER: must not have a query"),
        ("GATEWAY_DATABASE_URL", "mysql://root@localhost/x", "GATEWAY_DATABASE_URL: must start with"),
        ("GATEWAY_MASTER_KEY", "not base64!!", "GATEWAY_MASTER_KEY: must be base64"),
        ("GATEWAY_MASTER_KEY", base64.b64encode(b"short").decode(), "GATEWAY_MASTER_KEY: must decode to 32"),
        ("GATEWAY_PORT", "70000", "GATEWAY_PORT: Input should be less than or equal to 65535"),
        ("GATEWAY_MAX_BODY_BYTES", "12", "GATEWAY_MAX_BODY_BYTES: Input should be greater than or equal"),
        ("GATEWAY_ENVIRONMENT", "staging", "GATEWAY_ENVIRONMENT: Input should be"),
        ("GATEWAY_LOG_LEVEL", "LOUD", "GATEWAY_LOG_LEVEL: Input should be"),
    ],
)
def test_a_bad_setting_names_its_variable(
    env_without_gateway: object, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)
    assert value not in str(caught.value) or variable != "GATEWAY_MASTER_KEY"


def test_production_requires_a_master_key(
    env_without_gateway: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEWAY_ENVIRONMENT", "production")
    monkeypatch.setenv("GATEWAY_ISSUER", "https://gateway.example.org")
    with pytest.raises(SettingsError, match=r"^GATEWAY_MASTER_KEY is required"):
        load_settings()
    monkeypatch.setenv("GATEWAY_MASTER_KEY", KEY)
    assert resolve_master_key(load_settings()) == bytes(range(32))


def test_production_requires_https(env_without_gateway: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_ENVIRONMENT", "production")
    monkeypatch.setenv("GATEWAY_MASTER_KEY", KEY)
    with pytest.raises(SettingsError, match="GATEWAY_ISSUER must use https"):
        load_settings()


def test_production_refuses_webhooks_to_private_addresses(
    env_without_gateway: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEWAY_ENVIRONMENT", "production")
    monkeypatch.setenv("GATEWAY_MASTER_KEY", KEY)
    monkeypatch.setenv("GATEWAY_ISSUER", "https://gateway.example.org")
    settings = load_settings()
    assert (settings.webhooks_may_use_http, settings.webhooks_may_use_loopback) == (False, False)
    monkeypatch.setenv("GATEWAY_WEBHOOK_ALLOW_PRIVATE", "true")
    with pytest.raises(SettingsError, match="GATEWAY_WEBHOOK_ALLOW_PRIVATE must not be set"):
        load_settings()


def test_development_allows_webhooks_to_loopback_over_http() -> None:
    settings = Settings(environment="development")
    assert (settings.webhooks_may_use_http, settings.webhooks_may_use_loopback) == (True, True)
    assert not Settings(environment="test").webhooks_may_use_loopback


def test_development_generates_a_private_master_key_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(data_dir=tmp_path / "data", environment="development")
    first = resolve_master_key(settings)
    key_file = tmp_path / "data" / "master.key"
    assert len(first) == 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "generated a development master key" in caplog.text
    assert base64.b64encode(first).decode() not in caplog.text
    assert resolve_master_key(settings) == first


def test_a_corrupt_development_key_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "master.key").write_text("garbage")
    with pytest.raises(SettingsError, match="GATEWAY_MASTER_KEY: the development key file"):
        resolve_master_key(Settings(data_dir=tmp_path))


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("[::1]", True),
        ("::1", True),
        ("example.org", False),
        ("10.0.0.1", False),
        (None, False),
        ("", False),
    ],
)
def test_loopback_hosts(host: str | None, expected: bool) -> None:
    assert is_loopback_host(host) is expected


def test_every_setting_is_documented() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, f"GATEWAY_{name.upper()} has no description"
