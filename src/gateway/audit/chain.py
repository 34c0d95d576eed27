"""The hash chain of the authorisation log (SPEC §4): canonical encoding, event hashes, verification.

Pure: values in, values out, no I/O. Each school's events form one chain. Event n (n = 1, 2, 3 …) stores
`prev_hash`, the hash of event n-1 (`GENESIS_HASH` for the first), and its own `hash`: hex SHA-256 over
`prev_hash` (64 ASCII characters, so the boundary is unambiguous) followed by the canonical encoding of its
fields. Changing any field, or deleting, reordering or inserting an event, breaks the chain at that event
or at the next one, and `verify_chain` names the first break.

What a chain cannot show on its own: that events were cut off its end, or that someone able to write to
the database recomputed every hash from some point on. Both need an anchor kept elsewhere, such as the
last sequence number and hash from an earlier export or verification.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

GENESIS_HASH = "0" * 64
"""The `prev_hash` of a school's first event."""

_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")


def canonical_encoding(fields: Mapping[str, Any]) -> bytes:
    """One byte string per value: JSON, sorted keys, no whitespace, UTF-8 (not \\u escapes).

    Accepts None, bools, ints, strings, UUIDs (as strings), aware datetimes (ISO 8601 in UTC with
    microseconds, `2026-11-26T09:30:00.000000Z`), dates (`2026-11-26`), and lists, tuples and mappings
    with string keys of those. Anything else, floats included (their text is not unique), is a TypeError.
    """
    if not isinstance(fields, Mapping):
        raise TypeError(f"fields must be a mapping, not {type(fields).__name__}")
    return json.dumps(
        _plain(fields), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _plain(value: Any) -> Any:
    """`value` as JSON-native values only, or TypeError."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        return str.__str__(value)  # an enum member's value, not its repr
    if isinstance(value, float):
        raise TypeError("floats are not allowed in audit fields: use an int or a string")
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise TypeError("naive datetimes are not allowed in audit fields: give a timezone")
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        plain: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"keys must be strings, not {type(key).__name__}")
            plain[str.__str__(key)] = _plain(item)
        return plain
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    raise TypeError(f"cannot encode {type(value).__name__} in audit fields")


def event_hash(previous_hash: str, fields: Mapping[str, Any]) -> str:
    """Hex SHA-256 over the previous event's hash and this event's canonical fields."""
    if not _HEX_SHA256.fullmatch(previous_hash):
        raise ValueError("previous_hash must be 64 lowercase hex characters")
    return hashlib.sha256(previous_hash.encode("ascii") + canonical_encoding(fields)).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainLink:
    """One stored event as the chain sees it: its position, both hashes and the fields that were hashed."""

    id: uuid.UUID
    seq: int
    prev_hash: str
    hash: str
    fields: Mapping[str, Any]


class BreakReason(StrEnum):
    HASH_MISMATCH = "hash mismatch"  # the event's fields (or its hash) were changed
    PREVIOUS_HASH_MISMATCH = "previous hash mismatch"  # the event before it was changed or replaced
    SEQUENCE_GAP = "sequence gap"  # an event before it was deleted, or events were moved or inserted


@dataclass(frozen=True, slots=True)
class BrokenLink:
    """The first event at which a chain does not hold."""

    seq: int
    id: uuid.UUID
    reason: BreakReason


class ChainVerifier:
    """Checks a chain one event at a time, in stored order, so a long log can be read page by page."""

    def __init__(self) -> None:
        self.checked = 0
        self.broken: BrokenLink | None = None
        self._next_seq = 1
        self._prev_hash = GENESIS_HASH

    def check(self, link: ChainLink) -> BrokenLink | None:
        """The first break so far, or None. Once broken, later events are not examined."""
        if self.broken is not None:
            return self.broken
        self.checked += 1
        reason = self._fault(link)
        if reason is not None:
            self.broken = BrokenLink(seq=link.seq, id=link.id, reason=reason)
            return self.broken
        self._next_seq += 1
        self._prev_hash = link.hash
        return None

    def _fault(self, link: ChainLink) -> BreakReason | None:
        if link.seq != self._next_seq:
            return BreakReason.SEQUENCE_GAP
        if link.prev_hash != self._prev_hash:
            return BreakReason.PREVIOUS_HASH_MISMATCH
        if event_hash(link.prev_hash, link.fields) != link.hash:
            return BreakReason.HASH_MISMATCH
        return None


def verify_chain(events: Iterable[ChainLink]) -> BrokenLink | None:
    """The first broken event of one school's chain, given in stored (seq) order; None if it holds."""
    verifier = ChainVerifier()
    for link in events:
        broken = verifier.check(link)
        if broken is not None:
            return broken
    return None
