"""What retention has purged so far, by rule, for `/metrics` (counts only)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.erasure.models import PurgeRecord
from gateway.retention import RULES


@dataclass(frozen=True, slots=True)
class Purged:
    purges: int
    rows: int


async def purged_by_rule(session: AsyncSession) -> dict[str, Purged]:
    """Every rule, with how many purges it made and rows it removed (zero for a rule that never acted)."""
    found = {
        rule: Purged(int(purges), int(rows or 0))
        for rule, purges, rows in await session.execute(
            select(PurgeRecord.rule, func.count(), func.sum(PurgeRecord.rows)).group_by(PurgeRecord.rule)
        )
    }
    return {rule.name: found.get(rule.name, Purged(0, 0)) for rule in RULES}
