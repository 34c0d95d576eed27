"""How many rows each table holds (one statement over every table), to show that nothing was written."""

from __future__ import annotations

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.models import metadata


async def row_counts(bind: AsyncEngine | AsyncConnection) -> dict[str, int]:
    """Table name → row count, for every table the models define."""
    query = union_all(
        *(
            select(literal(table.name).label("name"), func.count().label("rows")).select_from(table)
            for table in metadata.sorted_tables
        )
    )
    if isinstance(bind, AsyncEngine):
        async with bind.connect() as connection:
            result = await connection.execute(query)
    else:
        result = await bind.execute(query)
    return {name: int(rows) for name, rows in result.all()}


def changed(before: dict[str, int], after: dict[str, int]) -> dict[str, tuple[int, int]]:
    """The tables whose counts differ: name → (before, after)."""
    return {name: (before[name], after[name]) for name in before if before[name] != after.get(name)}
