"""JSON in and out of the data API's hot path, with orjson (several times faster than the standard library).

Decrypted records are parsed and responses serialised here, so the choice of library sits in one place.
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["dumps", "loads"]


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)
