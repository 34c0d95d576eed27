"""Apps as one developer sees them: every query is scoped to `developer_id`; others' apps are never found."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.models import App
from gateway.db.base import utcnow
from gateway.db.guarded import changed_rows


class AppRepository:
    def __init__(self, session: AsyncSession, developer_id: uuid.UUID) -> None:
        self.session = session
        self.developer_id = developer_id

    async def list(self) -> Sequence[App]:
        query = select(App).where(App.developer_id == self.developer_id).order_by(App.created_at, App.id)
        return (await self.session.scalars(query)).all()

    async def get(self, client_id: str) -> App | None:
        return await self.session.scalar(
            select(App).where(App.developer_id == self.developer_id, App.client_id == client_id)
        )

    async def add(self, app: App) -> App:
        if app.developer_id != self.developer_id:
            raise ValueError("an app belongs to the repository's developer")
        self.session.add(app)
        await self.session.flush()
        return app

    async def delete(self, app: App) -> None:
        if app.developer_id != self.developer_id:
            raise ValueError("an app belongs to the repository's developer")
        await self.session.delete(app)
        await self.session.flush()

    async def replace_secret(
        self, app: App, *, expected: bytes, new: bytes, previous_expires_at: datetime
    ) -> bool:
        """Swap in a new secret hash, keeping `expected` as the previous one; False if it changed meanwhile.

        One guarded UPDATE, so two rotations racing on the same secret cannot both succeed and leave a
        secret that was shown to someone but works nowhere.
        """
        replaced = await changed_rows(
            self.session,
            update(App)
            .where(
                App.id == app.id,
                App.developer_id == self.developer_id,
                App.client_secret_hash == expected,
            )
            .values(
                client_secret_hash=new,
                previous_secret_hash=expected,
                previous_secret_expires_at=previous_expires_at,
                updated_at=utcnow(),
            ),
            synchronize="fetch",
        )
        return bool(replaced)
