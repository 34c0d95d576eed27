"""One transaction per request: the session dependency commits on success and rolls back on error.

Unless the request needs none. A transaction costs two round trips (BEGIN, COMMIT) on top of its
statements, and at PostgreSQL's READ COMMITTED every statement reads its own snapshot anyway, so a
request that only reads, or reads and then writes ONE statement (atomic by itself), is no less correct
without one: the data API's listing and single-record reads (the live grant, the page, then the
data-access record in one statement, committed before the answer is sent) and the back-channel reads of
the token endpoint and introspection (`db.read_only`). Such an endpoint says so with
`@one_statement_writes`; its session then runs in autocommit (`autocommit_session`), on PostgreSQL with
the app's own engine only (SQLite and a test's shared connection keep the transaction). Code that would
write more than one statement checks `autocommits(session)` and writes one instead (`keys.keyring`
creating a server secret) or refuses (`db.read_only`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Annotated, Any, Final, TypeVar

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gateway.db.engine import create_engine
from gateway.settings import Settings

# What a request's session carries for the services that sign in its transaction (`consent.receipts`):
# the process's keyring and the issuer. Set by `request_session`; a session made elsewhere (the CLI, a
# test) is given them with `consent.receipts.bind_signer`.
KEYRING_INFO = "gateway.keyring"
ISSUER_INFO = "gateway.issuer"
AUTOCOMMIT: Final = "gateway.autocommit"
_ONE_STATEMENT: Final = "__gateway_one_statement_writes__"

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


class Database:
    """Owns the engine and the session factory for one process."""

    def __init__(
        self, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession] | None = None
    ) -> None:
        self.engine = engine
        self.sessionmaker = sessionmaker or async_sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(create_engine(settings))

    async def dispose(self) -> None:
        await self.engine.dispose()


@asynccontextmanager
async def transaction(database: Database) -> AsyncIterator[AsyncSession]:
    """One session, committed if the block succeeds and rolled back if it raises."""
    async with database.sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


def one_statement_writes(endpoint: Endpoint) -> Endpoint:
    """Mark an endpoint whose requests write at most one statement: its session may autocommit."""
    setattr(endpoint, _ONE_STATEMENT, True)
    return endpoint


def writes_one_statement(endpoint: object) -> bool:
    """Whether `endpoint` was marked `one_statement_writes`."""
    return bool(getattr(endpoint, _ONE_STATEMENT, False))


def autocommits(session: AsyncSession) -> bool:
    """True when each statement of `session` commits on its own."""
    return bool(session.info.get(AUTOCOMMIT))


@asynccontextmanager
async def autocommit_session(
    database: Database, info: Mapping[str, Any] | None = None
) -> AsyncIterator[AsyncSession]:
    """A session in autocommit on PostgreSQL with the app's own engine, else an ordinary `transaction`."""
    bound_to_engine = database.sessionmaker.kw.get("bind") is database.engine
    if database.engine.dialect.name != "postgresql" or not bound_to_engine:
        async with transaction(database) as session:
            yield session
        return
    async with database.engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        async with database.sessionmaker(bind=connection, info={**(info or {}), AUTOCOMMIT: True}) as session:
            yield session


async def request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Services `flush()`; only this dependency commits, before the response is sent (an endpoint marked
    `one_statement_writes` commits each statement as it runs)."""
    database: Database = request.app.state.database
    one_statement = writes_one_statement(getattr(request.scope.get("route"), "endpoint", None))
    async with autocommit_session(database) if one_statement else transaction(database) as session:
        session.info[KEYRING_INFO] = request.app.state.keyring
        session.info[ISSUER_INFO] = request.app.state.settings.issuer
        yield session


SessionDep = Annotated[AsyncSession, Depends(request_session, scope="function")]
