"""`db.outage.database_unavailable`: which errors mean "the database is away, try again shortly"."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from gateway.db.outage import database_unavailable


class DriverError(Exception):
    """Stands in for asyncpg's errors, which carry the server's SQLSTATE."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "refused"),
        ConnectionResetError(104, "reset"),
        TimeoutError(),
        PoolTimeout("QueuePool limit reached"),
        DriverError("57P03"),  # the database system is starting up
        DriverError("57P01"),  # terminating connection due to administrator command
        DriverError("08006"),  # connection failure
        DBAPIError("SELECT 1", None, DriverError("57P01")),
        DBAPIError("SELECT 1", None, Exception("gone"), connection_invalidated=True),
    ],
)
def test_the_database_away(error: BaseException) -> None:
    assert database_unavailable(error)


def test_raised_from_an_unavailable_database() -> None:
    error = RuntimeError("wrapped")
    error.__cause__ = ConnectionRefusedError(111, "refused")
    assert database_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad"),
        KeyError("x"),
        FileNotFoundError(2, "missing"),  # an OSError, but not raised while connecting
        DriverError("23505"),  # unique violation
        DriverError("57014"),  # query cancelled (a statement timeout): not an outage
        IntegrityError("INSERT", None, DriverError("23505")),
    ],
)
def test_everything_else(error: BaseException) -> None:
    assert not database_unavailable(error)
