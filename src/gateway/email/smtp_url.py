"""`GATEWAY_SMTP_URL` parsed for the SMTP client; errors never repeat the URL, which holds a password.

- `smtp://user:pass@host:587`: STARTTLS, required (port 587 unless given);
- `smtp://host:25?starttls=false`: no TLS, refused with a password unless the host is loopback;
- `smtps://user:pass@host:465`: TLS from the first byte (port 465 unless given).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import SecretStr

from gateway.hosts import is_loopback_host

_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None = None
    password: SecretStr | None = None


def parse_smtp_url(url: str) -> SmtpConfig:
    """Parse and check an `smtp://` or `smtps://` URL; ValueError with a message safe to print."""
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"}:
        raise ValueError("must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("must name a host, as in smtp://user:pass@mail.example.org:587")
    if parts.path not in {"", "/"} or parts.fragment:
        raise ValueError("must not have a path or fragment")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("has a port that is not a number from 1 to 65535") from None
    username = unquote(parts.username) if parts.username else None
    password = SecretStr(unquote(parts.password)) if parts.password else None
    if (username is None) != (password is None):
        raise ValueError("must give both a user name and a password, or neither")

    options: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key != "starttls" or key in options:
            raise ValueError("accepts one query parameter only: starttls=true|false")
        options[key] = value.lower()
    if "starttls" in options and options["starttls"] not in _BOOLEANS:
        raise ValueError("starttls must be true or false")

    implicit_tls = parts.scheme == "smtps"
    if implicit_tls:
        if "starttls" in options:
            raise ValueError("starttls is for smtp://; smtps:// is TLS from the start")
        starttls = False
    else:
        starttls = _BOOLEANS[options.get("starttls", "true")]
    if not (implicit_tls or starttls) and username is not None and not is_loopback_host(parts.hostname):
        raise ValueError("would send the password in clear: use smtps:// or starttls=true")
    default_port = 465 if implicit_tls else 587 if starttls else 25
    return SmtpConfig(
        host=parts.hostname,
        port=port or default_port,
        implicit_tls=implicit_tls,
        starttls=starttls,
        username=username,
        password=password,
    )
