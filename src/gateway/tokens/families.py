"""Revoking tokens before they expire: a whole family, or one access token (SPEC §3.4).

A family is everything issued from one authorization code (its id is the family id): every refresh token
of the rotation chain and every school access token minted with them. Revoking it is two guarded
UPDATEs and, if they ended anything, one `token_family.revoked` event in the school's authorisation log
(a code or refresh token used again, or the app revoking its refresh token). Services flush, never commit.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.events import EventType
from gateway.audit.service import record_event
from gateway.db.guarded import changed_rows
from gateway.tokens.models import IssuedAccessToken, RefreshToken


class FamilyRevoked(StrEnum):
    """Why a family was revoked: the `reason` of its `token_family.revoked` event."""

    CODE_REUSE = "code_reuse"
    REFRESH_REUSE = "refresh_reuse"
    REVOKED_BY_APP = "revoked_by_app"


class FamilyMember(Protocol):
    """A code or refresh token: issued to an app under a school's grant."""

    school_id: uuid.UUID
    grant_id: uuid.UUID
    app_id: uuid.UUID


async def revoke_family(
    session: AsyncSession,
    member: FamilyMember,
    *,
    family_id: uuid.UUID,
    actor: str,
    reason: FamilyRevoked,
    now: datetime,
) -> bool:
    """End every refresh and access token of the family `member` belongs to; log it if anything was still
    live. A code's family id is its own id; a refresh token carries its family's.

    Returns False when the family was already revoked (a second late reuse adds no second event).
    """
    refresh_count = await changed_rows(
        session,
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now),
    )
    access_count = await changed_rows(
        session,
        update(IssuedAccessToken)
        .where(IssuedAccessToken.family_id == family_id, IssuedAccessToken.revoked_at.is_(None))
        .values(revoked_at=now),
    )
    if not refresh_count and not access_count:
        return False
    await record_event(
        session,
        school_id=member.school_id,
        event_type=EventType.TOKEN_FAMILY_REVOKED,
        actor=actor,
        details={
            "family_id": str(family_id),
            "grant_id": str(member.grant_id),
            "app_id": str(member.app_id),
            "reason": str(reason),
            "revoked_refresh": refresh_count,
            "revoked_access": access_count,
        },
        occurred_at=now,
    )
    return True


async def revoke_access_token(
    session: AsyncSession,
    *,
    jti: str,
    app_id: uuid.UUID,
    grant_id: uuid.UUID | None,
    expires_at: datetime,
    now: datetime,
) -> None:
    """Deny the access token `jti` from now on. School tokens have a row since issue; an app-level token
    gets one here (no grant, no family), and a concurrent revocation of the same token is harmless."""
    existing = await session.scalar(select(IssuedAccessToken).where(IssuedAccessToken.jti == jti))
    if existing is None:
        try:
            async with session.begin_nested():
                session.add(
                    IssuedAccessToken(
                        jti=jti,
                        app_id=app_id,
                        grant_id=grant_id,
                        family_id=None,
                        expires_at=expires_at,
                        revoked_at=now,
                    )
                )
            return
        except IntegrityError:  # another request recorded it first: mark that row instead
            pass
    await changed_rows(
        session,
        update(IssuedAccessToken)
        .where(
            IssuedAccessToken.jti == jti,
            IssuedAccessToken.app_id == app_id,
            IssuedAccessToken.revoked_at.is_(None),
        )
        .values(revoked_at=now),
    )
