"""One transaction per request: the session dependency commits on success and rolls back on error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gateway.db.engine import create_engine
from gateway.settings import Settings

# What a request's session carries for the services that sign in its transaction (`consent.receipts`):
# the process's keyring and the issuer. Set by `request_session`; a session made elsewhere (the CLI, a
# test) is given them with `consent.receipts.bind_signer`.
KEYRING_INFO = "gateway.keyring"
ISSUER_INFO = "gateway.issuer"


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


async def request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Services `flush()`; only this dependency commits, before the response is sent."""
    database: Database = request.app.state.database
    async with transaction(database) as session:
        session.info[KEYRING_INFO] = request.app.state.keyring
        session.info[ISSUER_INFO] = request.app.state.settings.issuer
        yield session


SessionDep = Annotated[AsyncSession, Depends(request_session, scope="function")]
