"""Is this error the database being away (down, restarting, unreachable, out of connections)?

During a PostgreSQL restart a request meets one of several errors, depending on when it asks: a pooled
connection that died (SQLAlchemy's `DBAPIError` with `connection_invalidated`, and the whole pool is
renewed), a refused or timed-out connect (asyncpg raises the bare `ConnectionRefusedError`, `OSError` or
`TimeoutError`: SQLAlchemy wraps only the driver's own errors), the server's "starting up" or "shutting
down" answers (SQLSTATE 57P01-57P03, class 08), or a pool checkout that timed out while the connects
failed. Each is the same thing to a client: try again shortly (503 with Retry-After), never a 500.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# SQLSTATE codes meaning "the server cannot take this connection or statement now".
UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})  # admin / crash shutdown, cannot connect now
CONNECTION_EXCEPTION_CLASS = "08"
# A bare OSError counts only when raised while connecting: "Multiple exceptions: …" when every address of
# the host refused, "No route to host", and so on.
CONNECTING_MODULES = ("asyncpg.", "sqlalchemy.pool.")
MAX_CAUSES = 5  # how far along `DBAPIError.orig` and `__cause__` to look


def database_unavailable(error: BaseException) -> bool:
    """True when `error` (or what it was raised from) says the database cannot be reached just now."""
    seen: BaseException | None = error
    for _ in range(MAX_CAUSES):
        if seen is None:
            return False
        if _unavailable(seen):
            return True
        original = seen.orig if isinstance(seen, DBAPIError) else None
        seen = original if isinstance(original, BaseException) else seen.__cause__
    return False


def _unavailable(error: BaseException) -> bool:
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, PoolTimeout | ConnectionError | TimeoutError):
        return True
    if isinstance(error, OSError) and _raised_in(error.__traceback__, CONNECTING_MODULES):
        return True
    sqlstate = getattr(error, "sqlstate", None)
    return isinstance(sqlstate, str) and (
        sqlstate in UNAVAILABLE_SQLSTATES or sqlstate.startswith(CONNECTION_EXCEPTION_CLASS)
    )


def _raised_in(traceback: TracebackType | None, modules: tuple[str, ...]) -> bool:
    while traceback is not None:
        if str(traceback.tb_frame.f_globals.get("__name__", "")).startswith(modules):
            return True
        traceback = traceback.tb_next
    return False
