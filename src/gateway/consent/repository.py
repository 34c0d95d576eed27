"""The grant SQL (SPEC §3.3, §3.6): one school's grants, and the live grant of a school and app.

Every query of `SchoolGrants` is bound to one school: another school's grant id is simply not there.
Changes are guarded UPDATEs on the grant as it was read, so a revoke or another change that commits
first is never overwritten.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.access_log.models import DataAccess
from gateway.apps.models import App
from gateway.consent.models import Grant, SensitiveApproval
from gateway.consent.rules import NarrowPlan
from gateway.db.guarded import changed_rows
from gateway.developers.models import Developer
from gateway.errors import NotFound
from gateway.scopes import format_scopes
from gateway.tokens.models import IssuedAccessToken, RefreshToken


class GrantNotFound(NotFound):
    slug, title = "grant-not-found", "Grant not found"

    def __init__(self) -> None:
        super().__init__("The school has no grant with this id.")


class GrantState(StrEnum):
    LIVE = "live"
    REVOKED = "revoked"
    ALL = "all"


async def live_grant(session: AsyncSession, school_id: uuid.UUID, app_id: uuid.UUID) -> Grant | None:
    return await session.scalar(
        select(Grant).where(Grant.school_id == school_id, Grant.app_id == app_id, Grant.revoked_at.is_(None))
    )


async def live_grant_by_id(session: AsyncSession, grant_id: uuid.UUID) -> Grant | None:
    return await session.scalar(select(Grant).where(Grant.id == grant_id, Grant.revoked_at.is_(None)))


async def end_grant(session: AsyncSession, grant: Grant, *, actor: str, now: datetime) -> bool:
    """Mark `grant` revoked; False if it was already ended (another request got there first)."""
    return bool(
        await changed_rows(
            session,
            update(Grant)
            .where(Grant.id == grant.id, Grant.revoked_at.is_(None))
            .values(revoked_at=now, revoked_by=actor, updated_at=now),
        )
    )


async def is_revoked(session: AsyncSession, grant_id: uuid.UUID) -> bool:
    revoked_at = await session.scalar(
        select(Grant.revoked_at).where(Grant.id == grant_id).execution_options(populate_existing=True)
    )
    return revoked_at is not None


class SchoolGrants:
    """One school's grants. Another school's grant id is simply not there."""

    def __init__(self, session: AsyncSession, school_id: uuid.UUID) -> None:
        self.session = session
        self.school_id = school_id

    async def get(self, grant_id: uuid.UUID) -> Grant:
        grant = await self.session.scalar(
            select(Grant).where(Grant.id == grant_id, Grant.school_id == self.school_id)
        )
        if grant is None:
            raise GrantNotFound
        return grant

    async def page(
        self, state: GrantState, *, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> list[tuple[Grant, App, str | None]]:
        """Newest first, keyset-paged on (created_at, id)."""
        query = (
            select(Grant, App, Developer.name)
            .join(App, App.id == Grant.app_id)
            .outerjoin(Developer, Developer.id == App.developer_id)
            .where(Grant.school_id == self.school_id)
            .order_by(Grant.created_at.desc(), Grant.id.desc())
            .limit(limit)
        )
        if state is GrantState.LIVE:
            query = query.where(Grant.revoked_at.is_(None))
        elif state is GrantState.REVOKED:
            query = query.where(Grant.revoked_at.is_not(None))
        if after is not None:
            at, grant_id = after
            query = query.where(or_(Grant.created_at < at, and_(Grant.created_at == at, Grant.id < grant_id)))
        return [(grant, app, name) for grant, app, name in (await self.session.execute(query)).all()]

    async def last_access(self, grant_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, datetime]:
        if not grant_ids:
            return {}
        rows = await self.session.execute(
            select(DataAccess.grant_id, func.max(DataAccess.occurred_at))
            .where(DataAccess.school_id == self.school_id, DataAccess.grant_id.in_(grant_ids))
            .group_by(DataAccess.grant_id)
        )
        return {grant_id: _aware(at) for grant_id, at in rows.all() if at is not None}

    async def approvals(self, grant_id: uuid.UUID) -> dict[str, SensitiveApproval]:
        rows = await self.session.scalars(
            select(SensitiveApproval)
            .join(Grant, Grant.id == SensitiveApproval.grant_id)
            .where(SensitiveApproval.grant_id == grant_id, Grant.school_id == self.school_id)
        )
        return {row.scope: row for row in rows}

    async def token_counts(self, grant: Grant, now: datetime) -> tuple[int, int]:
        """(live refresh-token families, usable access tokens); both 0 once the grant is revoked."""
        if grant.school_id != self.school_id or grant.revoked_at is not None:
            return 0, 0
        families = await self.session.scalar(
            select(func.count(func.distinct(RefreshToken.family_id))).where(
                RefreshToken.grant_id == grant.id,
                RefreshToken.school_id == self.school_id,
                RefreshToken.used_at.is_(None),
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > now,
            )
        )
        tokens = await self.session.scalar(
            select(func.count()).where(
                IssuedAccessToken.grant_id == grant.id,
                IssuedAccessToken.revoked_at.is_(None),
                IssuedAccessToken.expires_at > now,
            )
        )
        return families or 0, tokens or 0

    async def narrow(self, grant: Grant, plan: NarrowPlan, now: datetime) -> bool:
        """Apply `plan` only if the grant is still live and exactly as it was read: one guarded UPDATE."""
        changed = await changed_rows(
            self.session,
            update(Grant)
            .where(
                Grant.id == grant.id,
                Grant.school_id == self.school_id,
                Grant.revoked_at.is_(None),
                Grant.scopes == grant.scopes,
                Grant.audience_json.is_not_distinct_from(grant.audience_json),
            )
            .values(
                scopes=format_scopes(plan.scopes),
                audience_json=plan.audience.stored_json(),
                updated_at=now,
            ),
        )
        if not changed:
            return False
        if plan.removed:
            await changed_rows(
                self.session,
                delete(SensitiveApproval).where(
                    SensitiveApproval.grant_id == grant.id, SensitiveApproval.scope.in_(plan.removed)
                ),
            )
        await self.session.refresh(grant)
        return True


def _aware(value: datetime) -> datetime:
    """`max()` comes back without the column type on SQLite: a naive UTC datetime (or its text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
