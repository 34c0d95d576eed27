"""Opaque, tamper-evident cursors: a small JSON payload, base64url, with an HMAC-SHA-256 tag.

The key is a server-wide secret (`keyring.secret(session, CURSOR_SECRET)`), the same on every process.
Each payload names the school, grant and endpoint it was made for, so a cursor from another school, app,
grant or endpoint is refused like a forged one. Cursors are not secret (an app sees its own positions);
they only must not be made up.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any, Final

__all__ = ["CURSOR_SECRET", "MAX_CURSOR_LENGTH", "InvalidCursor", "open_cursor", "seal_cursor"]

CURSOR_SECRET: Final = "cursor-hmac"  # noqa: S105 (the secret's name, not a secret)
MAX_CURSOR_LENGTH: Final = 1024
_TAG_BYTES: Final = 16  # 128-bit tags: forging one is out of reach


class InvalidCursor(ValueError):
    """Not a cursor this server made for this request."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _tag(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, b"cursor|" + body, hashlib.sha256).digest()[:_TAG_BYTES]


def seal_cursor(key: bytes, payload: dict[str, Any]) -> str:
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return f"{_b64(body)}.{_b64(_tag(key, body))}"


def open_cursor(key: bytes, cursor: str, **expected: Any) -> dict[str, Any]:
    """The payload, checked against the tag and every `expected` item, or `InvalidCursor`."""
    if len(cursor) > MAX_CURSOR_LENGTH or cursor.count(".") != 1:
        raise InvalidCursor
    encoded_body, encoded_tag = cursor.split(".")
    try:
        body, tag = _unb64(encoded_body), _unb64(encoded_tag)
    except (ValueError, binascii.Error):
        raise InvalidCursor from None
    if not hmac.compare_digest(tag, _tag(key, body)):
        raise InvalidCursor
    try:
        payload = json.loads(body)
    except ValueError:
        raise InvalidCursor from None
    if not isinstance(payload, dict):
        raise InvalidCursor
    for name, value in expected.items():
        if payload.get(name) != value:
            raise InvalidCursor
    return payload
