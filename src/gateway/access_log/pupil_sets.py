"""The sets of pupils data API responses carried, stored once per school and named by their digest.

A response's log row names its set by `digest_of`; the set and its pupils are stored the first time a
response names it. Apps read the same pages again and again, so almost every set is already stored: on
PostgreSQL the log row, the set and its pupils are written by one statement that skips a stored set
(`service.record`); on SQLite (one process, no network) `keep` stores them first.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.access_log.models import DataAccessPupil, DataAccessPupilSet
from gateway.db.base import utcnow
from gateway.db.upsert import insert_for

__all__ = ["digest_of", "keep"]


def digest_of(pupils: Iterable[str]) -> str:
    """SHA-256 of the sorted ids, one per line (ids never hold a newline: the MIS id rule)."""
    return hashlib.sha256("\n".join(sorted(set(pupils))).encode()).hexdigest()


async def keep(session: AsyncSession, school_id: uuid.UUID, sets: Mapping[str, frozenset[str]]) -> None:
    """Store each set (digest -> pupils) the school has not stored yet, with its pupils, in the caller's
    transaction. (On PostgreSQL `service.record` does the same inside its one statement.)

    Two requests storing the same new set at once: on PostgreSQL the second waits on the first's row and
    stores nothing once it commits (or stores the set itself if the first rolls back); SQLite has one writer.
    """
    if not sets:
        return
    now = utcnow()
    statement = (
        (await insert_for(session, DataAccessPupilSet))
        .values([{"school_id": school_id, "digest": digest, "created_at": now} for digest in sorted(sets)])
        .on_conflict_do_nothing(index_elements=["school_id", "digest"])
        .returning(DataAccessPupilSet.digest)
    )
    new = list(await session.scalars(statement))
    if new:
        await session.execute(
            insert(DataAccessPupil),
            [
                {"school_id": school_id, "digest": digest, "student_id": pupil}
                for digest in new
                for pupil in sorted(sets[digest])
            ],
        )
