"""Sessions for back-channel requests that only read: `client_credentials` and introspection.

On PostgreSQL, with the app's own engine, the connection runs in autocommit (`db.session.
autocommit_session`): each SELECT stands alone, with no BEGIN and COMMIT round trips (2 of the 3 a
one-query request would otherwise cost). Elsewhere — SQLite, or a test's shared connection — it is an
ordinary session that commits at the end, like `SessionDep`.

A read-only session is marked in `session.info`. Code that would have to write in one (creating the
very first signing key) raises `NeedsWrite` instead, and the router runs the request again in a
read-write session: once per deployment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.session import Database, autocommit_session

READ_ONLY: Final = "gateway.read_only"


class NeedsWrite(Exception):
    """This request must write after all: run it again in an ordinary `transaction`."""


def is_read_only(session: AsyncSession) -> bool:
    return bool(session.info.get(READ_ONLY))


@asynccontextmanager
async def read_only_session(database: Database) -> AsyncIterator[AsyncSession]:
    """A session for reading only; in autocommit on PostgreSQL (see the module's note)."""
    async with autocommit_session(database, {READ_ONLY: True}) as session:
        yield session
