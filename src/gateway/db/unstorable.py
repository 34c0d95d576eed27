"""Values no database here can store, refused in one place before any statement runs (SPEC §5).

PostgreSQL refuses a NUL character in text and every driver refuses an unpaired UTF-16 surrogate (which
a JSON body's `\\ud800` escape or a percent-decoded query can produce); SQLite would store a NUL and
silently differ. Integers beyond 64 bits overflow every integer column. Whatever a client sent — query,
path, form, JSON or a header — reaches the database as a bound parameter, so `refuse_unstorable`, run on
every engine before each statement, is the one check: the statement is never sent, and the request's
transaction rolls back. The error names no value (`http.error_responses` answers 400 in the endpoint's
format). Engines are also made with `hide_parameters`, so no log line or error text ever carries a bound
parameter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

_UNSTORABLE_TEXT: Final = re.compile("[\x00\ud800-\udfff]")
INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1


class UnstorableValue(ValueError):
    """A request value the database cannot store; answered 400, and nothing is written."""

    def __init__(self) -> None:
        super().__init__("a bound parameter holds a NUL, an unpaired surrogate or an integer beyond 64 bits")


def is_storable_text(text: str) -> bool:
    return _UNSTORABLE_TEXT.search(text) is None


def _storable(value: object) -> bool:
    if isinstance(value, str):
        return _UNSTORABLE_TEXT.search(value) is None
    if isinstance(value, int) and not isinstance(value, bool):
        return INT64_MIN <= value <= INT64_MAX
    if isinstance(value, list | tuple | set | frozenset):
        try:  # a list of text (record and pupil ids): one search over the joined text, at C speed
            return _UNSTORABLE_TEXT.search("".join(value)) is None
        except TypeError:  # not all text
            return all(_storable(item) for item in value)
    return True


def check_parameters(parameters: Mapping[str, Any] | Iterable[Any] | None) -> None:
    """`UnstorableValue` if any bound parameter (of one statement or an executemany batch) is unstorable."""
    if parameters is None:
        return
    batches = [parameters] if isinstance(parameters, Mapping | tuple) else list(parameters)
    for batch in batches:
        values = batch.values() if isinstance(batch, Mapping) else batch
        if not all(_storable(value) for value in values):
            raise UnstorableValue


def refuse_unstorable(engine: AsyncEngine) -> None:
    """Check every statement's parameters on `engine` before it is sent."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _before(
        _connection: object,
        _cursor: object,
        _statement: str,
        parameters: Any,
        _context: object,
        _executemany: bool,
    ) -> None:
        check_parameters(parameters)
