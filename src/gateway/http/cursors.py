"""Opaque, tamper-evident page cursors: one codec for every paginated endpoint.

A cursor is `base64url(body).base64url(tag)`: the body a small JSON object, the tag the first 128 bits of
its HMAC-SHA-256 under a server-wide secret (`keyring.secret(session, CURSOR_SECRET)`, the same on every
process). The body holds the position (`payload`) beside the endpoint kind and what the cursor was made for
(`binding`: school, app, grant, query). `open_cursor` takes the kind and binding of the request at hand, so
a cursor from another school, app, grant, query or endpoint is refused like a forged one: one
`InvalidCursor`, which each endpoint answers with its own problem.

Cursors are not secret (a client sees its own positions); they only must not be made up. The layout is the
one the data API has handed out since it had cursors, so cursors issued before this module existed (a
changes-feed position an app keeps between syncs) still open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any, Final

from gateway.errors import BadRequest, field_error

__all__ = ["CURSOR_SECRET", "MAX_CURSOR_LENGTH", "InvalidCursor", "open_cursor", "seal_cursor"]

CURSOR_SECRET: Final = "cursor-hmac"  # noqa: S105 (the secret's name, not a secret)
MAX_CURSOR_LENGTH: Final = 1024  # every cursor query parameter is bounded by this
_TAG_BYTES: Final = 16  # 128-bit tags: forging one is out of reach
_KIND: Final = "k"
_SHAPE: Final = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class InvalidCursor(ValueError):
    """Not a cursor this server made for this request: forged, altered, malformed or made for another."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    """The bytes of unpadded base64url `text`, which must be their one spelling: a last character that
    differs only in its unused low bits would decode to the same bytes, so one cursor would have many."""
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:
        raise ValueError("not the canonical spelling")
    return data


def _tag(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, b"cursor|" + body, hashlib.sha256).digest()[:_TAG_BYTES]


def _expected(kind: str, binding: Mapping[str, str | uuid.UUID]) -> dict[str, str]:
    return {_KIND: kind, **{name: str(value) for name, value in binding.items()}}


def seal_cursor(key: bytes, payload: Mapping[str, Any], *, kind: str, **binding: str | uuid.UUID) -> str:
    """A cursor for `payload` (JSON values), which only `open_cursor` with the same kind and binding opens.

    Raises `ValueError` for a caller's mistake: a payload name that is also a binding name (or `k`), or a
    cursor longer than `MAX_CURSOR_LENGTH`, which no endpoint would take back.
    """
    expected = _expected(kind, binding)
    clash = expected.keys() & payload.keys()
    if clash:
        raise ValueError(f"payload names {sorted(clash)} are taken by the kind and binding")
    body = json.dumps({**payload, **expected}, separators=(",", ":"), sort_keys=True).encode()
    cursor = f"{_b64(body)}.{_b64(_tag(key, body))}"
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise ValueError(f"a cursor of {len(cursor)} characters is over {MAX_CURSOR_LENGTH}")
    return cursor


def open_cursor(key: bytes, cursor: str, *, kind: str, **binding: str | uuid.UUID) -> dict[str, Any]:
    """The payload sealed with this kind and binding (without them), or `InvalidCursor`."""
    if len(cursor) > MAX_CURSOR_LENGTH or not _SHAPE.fullmatch(cursor):
        raise InvalidCursor
    encoded_body, encoded_tag = cursor.split(".")
    try:
        body, tag = _unb64(encoded_body), _unb64(encoded_tag)
    except (ValueError, binascii.Error):
        raise InvalidCursor from None
    if not hmac.compare_digest(tag, _tag(key, body)):
        raise InvalidCursor
    try:
        sealed = json.loads(body)
    except ValueError:
        raise InvalidCursor from None
    if not isinstance(sealed, dict):
        raise InvalidCursor
    expected = _expected(kind, binding)
    if any(sealed.get(name) != value for name, value in expected.items()):
        raise InvalidCursor
    return {name: value for name, value in sealed.items() if name not in expected}


def cursor_refused(made_for: str = "") -> BadRequest:
    """The one answer to a `cursor` query parameter that does not open: 400 naming the parameter.
    `made_for` ends the sentence, e.g. " for this pupil"."""
    return BadRequest(
        f"The cursor is not one this endpoint handed out{made_for}.",
        errors=[field_error("invalid cursor", parameter="cursor")],
    )
