"""What an app may do about its own grants (SPEC §3.4, §3.6): list the schools that granted it; disconnect.

Services flush, never commit. Every query is bound to the app the token names.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit import events
from gateway.audit.events import EventType
from gateway.consent.audience import Audience
from gateway.consent.grants import revoke_grant
from gateway.consent.models import Grant
from gateway.oauth.bearer import SchoolToken
from gateway.schools.models import School

DEFAULT_PAGE: Final = 100
MAX_PAGE: Final = 500


@dataclass(frozen=True, slots=True)
class GrantedSchool:
    grant: Grant
    school: School

    @property
    def audience_summary(self) -> dict[str, Any]:
        """Which pupils the grant covers, without naming any excluded pupil."""
        audience = Audience.of(self.grant)
        return {
            "whole_school": audience.groups is None,
            "groups": None if audience.groups is None else list(audience.sorted_groups),
            "excluded_students": len(audience.exclude),
        }


@dataclass(frozen=True, slots=True)
class GrantedSchoolPage:
    schools: list[GrantedSchool]
    last: uuid.UUID | None  # the grant the next page starts after; None when this page is the last


async def granted_schools(
    session: AsyncSession, app_id: uuid.UUID, *, limit: int = DEFAULT_PAGE, after: uuid.UUID | None = None
) -> GrantedSchoolPage:
    """The app's live grants with their schools, in grant-id order (keyset pages; stable as grants come
    and go: a grant made or revoked between pages is simply seen or missed, never repeated)."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}")
    query = (
        select(Grant, School)
        .join(School, School.id == Grant.school_id)
        .where(Grant.app_id == app_id, Grant.revoked_at.is_(None))
        .order_by(Grant.id)
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(Grant.id > after)
    rows = [GrantedSchool(grant, school) for grant, school in (await session.execute(query)).all()]
    more = len(rows) > limit
    rows = rows[:limit]
    return GrantedSchoolPage(rows, rows[-1].grant.id if more else None)


async def disconnect(session: AsyncSession, token: SchoolToken, *, now: datetime) -> None:
    """End the token's grant, as the app: its refresh tokens are revoked here, and every access token of
    the grant (this one included) is refused from the next request on, because the grant is no longer
    live. Logged as `app.disconnected` in the school's authorisation log. A concurrent revocation that
    got there first leaves nothing to do."""
    await revoke_grant(
        session,
        token.grant,
        actor=events.app(token.client_id),
        event_type=EventType.APP_DISCONNECTED,
        now=now,
    )
