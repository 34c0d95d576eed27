"""Query-string plumbing shared by the JSON APIs: the parameter allowlist (unknown or repeated: 400)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from fastapi import Request

from gateway.errors import BadRequest, field_error

__all__ = ["query_allowlist"]

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
