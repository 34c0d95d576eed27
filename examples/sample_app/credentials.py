"""The credentials file `gateway demo` writes (SPEC §9): issuer, school, admin, developer key and the app
(with its webhook URL and `whsec_…` signing secret)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_PATH = Path("var/demo-credentials.json")
WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 (Standard Webhooks' prefix, not a secret)


class CredentialsError(Exception):
    """The file is missing or not what `gateway demo` writes; the message says what to do."""


@dataclass(frozen=True)
class DemoCredentials:
    issuer: str
    school_id: str
    admin_email: str
    admin_password: str
    client_id: str
    client_secret: str
    redirect_uri: str
    required_scopes: tuple[str, ...]
    optional_scopes: tuple[str, ...]
    webhook_url: str
    webhook_secret: str

    @property
    def scope(self) -> str:
        """What the sample app asks for: every required and optional scope it registered."""
        return " ".join(dict.fromkeys((*self.required_scopes, *self.optional_scopes)))

    def __repr__(self) -> str:  # never print the secrets by accident
        return (
            f"DemoCredentials(issuer={self.issuer!r}, school_id={self.school_id!r}, "
            f"client_id={self.client_id!r})"
        )


def _scopes(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise CredentialsError("app.required_scopes and app.optional_scopes must be scope strings")


def _webhook_secret(value: Any) -> str:
    secret = str(value)
    try:
        raw = base64.b64decode(secret.removeprefix(WEBHOOK_SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if not secret.startswith(WEBHOOK_SECRET_PREFIX) or not raw:
        raise CredentialsError("app.webhook_secret is not a `whsec_…` secret: run `gateway demo` again")
    return secret


def parse_credentials(content: Any) -> DemoCredentials:
    try:
        app, admin = content["app"], content["admin"]
        return DemoCredentials(
            issuer=str(content["issuer"]).rstrip("/"),
            school_id=str(content["school_id"]),
            admin_email=str(admin["email"]),
            admin_password=str(admin["password"]),
            client_id=str(app["client_id"]),
            client_secret=str(app["client_secret"]),
            redirect_uri=str(app["redirect_uris"][0]),
            required_scopes=_scopes(app["required_scopes"]),
            optional_scopes=_scopes(app["optional_scopes"]),
            webhook_url=str(app["webhook_url"]),
            webhook_secret=_webhook_secret(app["webhook_secret"]),
        )
    except (KeyError, IndexError, TypeError) as exc:
        raise CredentialsError(f"the credentials file lacks {exc}: run `gateway demo` again") from None


def load_credentials(path: Path = DEFAULT_PATH) -> DemoCredentials:
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CredentialsError(
            f"no credentials file at {path}: start the gateway with `scripts/demo` first "
            "(or pass --credentials PATH)"
        ) from None
    except (OSError, ValueError) as exc:
        raise CredentialsError(f"cannot read {path}: {type(exc).__name__}") from None
    return parse_credentials(content)
