"""Readiness: the database answers and its schema is at the migrations' head (shutting down is the
router's first check: `http.shutdown`)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.db.engine import READS_ONLY
from gateway.db.migrations import current_revision
from gateway.db.outage import database_unavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    reason: str = ""


async def check_readiness(engine: AsyncEngine, expected_revision: str, within_seconds: float) -> Readiness:
    try:
        async with asyncio.timeout(within_seconds):
            async with engine.connect() as connection:
                await connection.execution_options(**{READS_ONLY: True})
                await connection.execute(text("SELECT 1"))
            revision = await current_revision(engine)
    except Exception as exc:
        # The server's own "starting up" answer is an asyncpg error, neither SQLAlchemy's nor an OSError.
        if not isinstance(exc, SQLAlchemyError | OSError) and not database_unavailable(exc):
            raise
        log.warning("readiness check failed: database unreachable", extra={"error": type(exc).__name__})
        return Readiness(False, "The database cannot be reached.")
    if revision != expected_revision:
        return Readiness(
            False, f"The database schema is at {revision or 'no revision'}, expected {expected_revision}."
        )
    return Readiness(True)
