"""Queries on `school_api_keys`, each inside one school (tenant isolation, SPEC §5)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.guarded import changed_rows
from gateway.manage.models import SchoolApiKey


class SchoolApiKeys:
    """One school's API keys. Another school's prefix is simply not there."""

    def __init__(self, session: AsyncSession, school_id: uuid.UUID) -> None:
        self.session = session
        self.school_id = school_id

    async def add(self, row: SchoolApiKey) -> SchoolApiKey:
        if row.school_id != self.school_id:
            raise ValueError("a key is added to its own school's repository only")
        self.session.add(row)
        await self.session.flush()
        return row

    async def all(self) -> list[SchoolApiKey]:
        rows = await self.session.scalars(
            select(SchoolApiKey)
            .where(SchoolApiKey.school_id == self.school_id)
            .order_by(SchoolApiKey.created_at, SchoolApiKey.prefix)
        )
        return list(rows)

    async def get(self, prefix: str) -> SchoolApiKey | None:
        return await self.session.scalar(
            select(SchoolApiKey).where(
                SchoolApiKey.school_id == self.school_id, SchoolApiKey.prefix == prefix
            )
        )

    async def revoke(self, prefix: str, at: datetime) -> bool:
        """Revoke a live key in one guarded UPDATE; False if it was already revoked (or is not ours)."""
        return bool(
            await changed_rows(
                self.session,
                update(SchoolApiKey)
                .where(
                    SchoolApiKey.school_id == self.school_id,
                    SchoolApiKey.prefix == prefix,
                    SchoolApiKey.revoked_at.is_(None),
                )
                .values(revoked_at=at),
                synchronize="fetch",
            )
        )


async def key_by_prefix(session: AsyncSession, prefix: str) -> SchoolApiKey | None:
    """For authentication only: the key names its school, so this lookup cannot be scoped beforehand."""
    return await session.scalar(select(SchoolApiKey).where(SchoolApiKey.prefix == prefix))
