"""The `details` of an audit event: a small JSON object of ids, counts and scope names (SPEC §4, §5).

Never personal data, secrets, tokens, email addresses or IP addresses in clear. The log is append-only and
hash-chained, so nothing written to it can be erased later (not on a pupil's 25th birthday, not on a
school's request) without breaking the chain: what it must not keep, it must never be given. Say which
record, app, grant or key by its id; say how many; name scopes; if a network address ever matters, keep a
keyed hash of it. Who acted goes in `actor`, also as an id (see `events.check_actor`).

`encode_details` turns a mapping into the stored canonical JSON and refuses, as a safety net, keys that
name personal data or secrets, any string with an `@` (an email address), and anything over 4 KiB.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from gateway.audit.chain import canonical_encoding

MAX_DETAILS_BYTES = 4096

FORBIDDEN_KEYS = frozenset(
    {
        "access_token",
        "address",
        "client_secret",
        "dob",
        "email",
        "first_name",
        "ip",
        "ip_address",
        "last_name",
        "name",
        "password",
        "phone",
        "refresh_token",
        "secret",
        "token",
        "upn",
    }
)


def encode_details(details: Mapping[str, Any] | None) -> str:
    """The canonical JSON text stored in `audit_events.details`; ValueError or TypeError if unfit."""
    encoded = canonical_encoding(details or {})
    if len(encoded) > MAX_DETAILS_BYTES:
        raise ValueError(f"audit details must be at most {MAX_DETAILS_BYTES} bytes of ids and counts")
    _refuse_personal_data(json.loads(encoded))
    return encoded.decode("utf-8")


def _refuse_personal_data(value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _refuse_personal_data(key)
            if key.lower() in FORBIDDEN_KEYS:
                raise ValueError(f"audit details must not hold {key!r}: record an id instead")
            _refuse_personal_data(item)
    elif isinstance(value, list):
        for item in value:
            _refuse_personal_data(item)
    elif isinstance(value, str) and "@" in value:
        raise ValueError("audit details must not hold email addresses")
