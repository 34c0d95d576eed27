"""GATEWAY_SMTP_URL and GATEWAY_MAIL_FROM: parsed and checked at start-up; the password never shows."""

from __future__ import annotations

import base64

import pytest

from gateway.email.smtp_url import SmtpConfig, parse_smtp_url
from gateway.email.transports import FileTransport, SmtpTransport, transport_from_settings
from gateway.settings import Settings, SettingsError, load_settings

PASSWORD = "s3cret-Pa55"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            f"smtp://user:{PASSWORD}@mail.example.org:587?starttls=true",
            SmtpConfig("mail.example.org", 587, implicit_tls=False, starttls=True, username="user"),
        ),
        (
            f"smtp://user:{PASSWORD}@mail.example.org",
            SmtpConfig("mail.example.org", 587, implicit_tls=False, starttls=True, username="user"),
        ),
        (
            f"smtps://user:{PASSWORD}@mail.example.org",
            SmtpConfig("mail.example.org", 465, implicit_tls=True, starttls=False, username="user"),
        ),
        (
            "smtp://relay.internal?starttls=false",
            SmtpConfig("relay.internal", 25, implicit_tls=False, starttls=False),
        ),
        (
            f"smtp://user:{PASSWORD}@127.0.0.1:1025?starttls=false",
            SmtpConfig("127.0.0.1", 1025, implicit_tls=False, starttls=False, username="user"),
        ),
        (
            "smtp://mail%40example.org:p%40ss%3Aw@mail.example.org:2525/",
            SmtpConfig(
                "mail.example.org", 2525, implicit_tls=False, starttls=True, username="mail@example.org"
            ),
        ),
    ],
)
def test_urls_that_work(url: str, expected: SmtpConfig) -> None:
    config = parse_smtp_url(url)
    assert (config.host, config.port, config.implicit_tls, config.starttls, config.username) == (
        expected.host,
        expected.port,
        expected.implicit_tls,
        expected.starttls,
        expected.username,
    )
    assert (config.password is None) == (expected.username is None)
    assert PASSWORD not in repr(config)


def test_the_password_is_percent_decoded() -> None:
    config = parse_smtp_url("smtp://u:p%40ss%3Aw%2Frd@mail.example.org")
    assert config.password is not None
    assert config.password.get_secret_value() == "p@ss:w/rd"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (f"http://user:{PASSWORD}@mail.example.org", "must start with smtp:// or smtps://"),
        (f"smtp://user:{PASSWORD}@:587", "must name a host"),
        (f"smtp://user:{PASSWORD}@mail.example.org:99999", "port"),
        (f"smtp://user:{PASSWORD}@mail.example.org:25x", "port"),
        (f"smtp://user:{PASSWORD}@mail.example.org/inbox", "path"),
        (f"smtp://user:{PASSWORD}@mail.example.org?tls=1", "one query parameter"),
        (f"smtp://user:{PASSWORD}@mail.example.org?starttls=maybe", "starttls must be true or false"),
        (f"smtps://user:{PASSWORD}@mail.example.org?starttls=true", "starttls is for smtp://"),
        (f"smtp://user:{PASSWORD}@mail.example.org?starttls=false", "password in clear"),
        ("smtp://user@mail.example.org", "both a user name and a password"),
    ],
)
def test_urls_that_do_not(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        parse_smtp_url(url)
    assert PASSWORD not in str(caught.value)


def test_a_bad_url_stops_start_up_naming_the_variable_not_the_password(
    env_without_gateway: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEWAY_SMTP_URL", f"smtp://user:{PASSWORD}@mail.example.org?starttls=false")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith("GATEWAY_SMTP_URL: would send the password in clear")
    assert PASSWORD not in str(caught.value)


def test_the_url_is_a_secret(env_without_gateway: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_SMTP_URL", f"smtps://user:{PASSWORD}@mail.example.org")
    settings = load_settings()
    assert PASSWORD not in repr(settings)
    assert PASSWORD not in str(settings.model_dump())
    transport = transport_from_settings(settings)
    assert isinstance(transport, SmtpTransport)
    assert transport.config.host == "mail.example.org"
    assert transport.sender == "gateway@localhost"
    assert PASSWORD not in repr(transport.config)


@pytest.mark.parametrize(
    "value", ["", "gateway", "gateway@localhost\r\nBcc: x@example.org", "a b@example.org"]
)
def test_mail_from_must_be_an_address(
    env_without_gateway: object, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("GATEWAY_MAIL_FROM", value)
    with pytest.raises(SettingsError, match=r"^GATEWAY_MAIL_FROM: "):
        load_settings()


def test_without_a_url_mail_goes_to_files_in_the_data_dir(env_without_gateway: object) -> None:
    settings = Settings(data_dir="/srv/gateway", mail_from="noreply@school.example.org")
    transport = transport_from_settings(settings)
    assert isinstance(transport, FileTransport)
    assert str(transport.directory) == "/srv/gateway/mail"
    assert transport.sender == "noreply@school.example.org"


def test_production_without_a_url_says_mail_is_not_sent(
    env_without_gateway: object, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        environment="production",
        issuer="https://gateway.example.org",
        master_key=base64.b64encode(bytes(32)).decode(),
    )
    assert isinstance(transport_from_settings(settings), FileTransport)
    assert "GATEWAY_SMTP_URL is not set" in caplog.text
