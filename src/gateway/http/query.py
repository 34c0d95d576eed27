"""Query-string plumbing shared by the JSON APIs: the parameter allowlist (unknown or repeated: 400), and
the date-time a filter takes."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Final

from fastapi import Request
from pydantic import BeforeValidator

from gateway.errors import BadRequest, field_error

__all__ = ["DateTimeText", "query_allowlist"]

# A date and a time of day, then anything ISO 8601 allows after them (seconds, fraction, offset).
_DATE_TIME_START: Final = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _iso_date_time(value: object) -> object:
    if not isinstance(value, str) or not _DATE_TIME_START.match(value):
        raise ValueError("must be an ISO 8601 date-time, such as 2026-09-01T08:00:00Z")
    return value


DateTimeText = Annotated[datetime, BeforeValidator(_iso_date_time)]
"""A date-time written out (ISO 8601, `format: date-time`). Pydantic alone would also read a number as
seconds since 1970 (`0.5`, `1700000000`) and a bare date as midnight, which the schema does not offer."""

_SHOWABLE_NAME = re.compile(r"[A-Za-z0-9_.\-\[\]]{1,40}")


def query_allowlist(*allowed: str) -> Callable[[Request], Awaitable[None]]:
    """A dependency refusing (400) any query parameter not in `allowed`, and any given twice.

    Async although it does no I/O: FastAPI would run a sync dependency in its thread pool.
    """

    async def check(request: Request) -> None:
        names = [name for name, _ in request.query_params.multi_items()]
        unknown = sorted({name for name in names if name not in allowed})
        repeated = sorted({name for name in names if name in allowed and names.count(name) > 1})
        if not unknown and not repeated:
            return
        errors = [field_error("unknown parameter", parameter=_shown(name)) for name in unknown]
        errors += [field_error("given more than once", parameter=name) for name in repeated]
        accepted = ", ".join(allowed) or "none"
        raise BadRequest(
            f"Unknown or repeated query parameters. This endpoint accepts: {accepted}.", errors=errors
        )

    return check


def _shown(name: str) -> str:
    """A parameter name is request input: quoted back only when it is short and plain."""
    return name if _SHOWABLE_NAME.fullmatch(name) else "(unprintable name)"
