"""Async engines for the embedded SQLite default and for PostgreSQL (SPEC §8)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from gateway.db.unstorable import refuse_unstorable
from gateway.settings import Settings

SQLITE_BUSY_TIMEOUT_MS = 5_000
READS_ONLY = "gateway_reads_only"
"""Execution option for a connection that only reads (readiness, the schema's revision): on SQLite its
transaction begins deferred, so it never waits for the write lock."""


def create_engine(settings: Settings) -> AsyncEngine:
    """The engine for `settings`, refusing unstorable values before any statement (`db.unstorable`) and
    never putting bound parameters into error text or logs (`hide_parameters`)."""
    url = settings.resolved_database_url
    engine = _sqlite_engine(url) if settings.is_sqlite else _postgres_engine(url, settings)
    refuse_unstorable(engine)
    return engine


def _postgres_engine(url: str, settings: Settings) -> AsyncEngine:
    return create_async_engine(
        url,
        hide_parameters=True,
        pool_size=settings.db_pool_size,
        # No overflow: a connection opened past the pool's size is closed again when it is returned,
        # so under steady load above `db_pool_size` concurrent requests every such request paid for a
        # new connection (TLS attempt, authentication, a new backend process). Requests past the pool
        # wait up to `pool_timeout` for one instead, and each process holds at most `db_pool_size`.
        max_overflow=0,
        # No pre-ping: it costs three statements (BEGIN, a ping, ROLLBACK) on every checkout. When the
        # database restarts, the first statement on a stale connection fails; SQLAlchemy then invalidates
        # the whole pool and `errors` answers that one request 503 with Retry-After.
        pool_pre_ping=False,
        pool_timeout=settings.db_connect_timeout_seconds,
        connect_args={"timeout": settings.db_connect_timeout_seconds},
    )


def _sqlite_engine(url: str) -> AsyncEngine:
    database = make_url(url).database
    if database and database != ":memory:":
        path = Path(database)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():  # personal data (even encrypted) is for the service's user only
            path.touch(mode=0o600)
    engine = create_async_engine(
        url, hide_parameters=True, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy emit BEGIN so SAVEPOINTs work (pysqlite's own transaction handling breaks them).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # A deleted row's bytes are overwritten, not left in free pages: an erased pupil's ciphertext is
        # under a key that still opens the school's other records (gateway.erasure.pupil_purge).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE: take the write lock at BEGIN. A deferred transaction that read, then writes after
        # another connection committed (the background workers do, right after each request's commit),
        # fails at once with SQLITE_BUSY, which busy_timeout does not cover; an immediate one waits its
        # turn. Transactions on the embedded database are short and one process serves it. A connection
        # that only reads says so (`READS_ONLY`) and begins deferred.
        deferred = connection.get_execution_options().get(READS_ONLY)
        connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

    return engine
