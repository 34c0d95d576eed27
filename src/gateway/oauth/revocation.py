"""Revoking tokens: a whole family (on reuse, or when the app revokes a refresh token), or one access token.

A family is everything issued from one authorization code (its id is the family id): every refresh token
of the rotation chain and every school access token minted with them. Revoking it is two guarded
UPDATEs and, if they ended anything, one `token_family.revoked` event in the school's authorisation log.

`/oauth/revoke` (RFC 7009) answers 200 whatever it is given (§2.2): an unknown, malformed or expired
token, or another client's token, is simply left as it is — never revoked on a stranger's say-so. The
`token_type_hint` is not needed (our tokens are told apart by shape) and so is ignored, whatever its
value (§2.1 lets the server ignore it); `unsupported_token_type` is therefore never answered, since both
kinds of token we issue can be revoked. Revoking an access token revokes only that token (§2.1 leaves
its refresh token to the server's choice; the app can revoke the refresh token to end the family).
Services flush, never commit.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit import events
from gateway.audit.events import EventType
from gateway.audit.service import record_event
from gateway.oauth.client_auth import AuthenticatedClient
from gateway.oauth.models import IssuedAccessToken, RefreshToken
from gateway.oauth.presented_tokens import TokenKind, find_refresh_token, kind_of, verified_access_token

CODE_REUSE: Final = "code_reuse"
REFRESH_REUSE: Final = "refresh_reuse"
REVOKED_BY_APP: Final = "revoked_by_app"


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def revoke_family(
    session: AsyncSession,
    *,
    family_id: uuid.UUID,
    school_id: uuid.UUID,
    grant_id: uuid.UUID,
    app_id: uuid.UUID,
    actor: str,
    reason: str,
    now: datetime,
) -> bool:
    """End every refresh and access token of the family; log it if anything was still live.

    Returns False when the family was already revoked (a second late reuse adds no second event).
    """
    refresh = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    access = await session.execute(
        update(IssuedAccessToken)
        .where(IssuedAccessToken.family_id == family_id, IssuedAccessToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    refresh_count, access_count = _count(refresh), _count(access)
    if not refresh_count and not access_count:
        return False
    await record_event(
        session,
        school_id=school_id,
        event_type=EventType.TOKEN_FAMILY_REVOKED,
        actor=actor,
        details={
            "family_id": str(family_id),
            "grant_id": str(grant_id),
            "app_id": str(app_id),
            "reason": reason,
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
    await session.execute(
        update(IssuedAccessToken)
        .where(
            IssuedAccessToken.jti == jti,
            IssuedAccessToken.app_id == app_id,
            IssuedAccessToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


async def revoke(
    session: AsyncSession, client: AuthenticatedClient, token: str, *, issuer: str, now: datetime
) -> None:
    """RFC 7009 §2.1 for `client`: revoke `token` if it is one of the client's own; otherwise do nothing."""
    kind = kind_of(token)
    if kind is TokenKind.REFRESH:
        row = await find_refresh_token(session, token)
        if row is None or row.app_id != client.app.id:
            return
        await revoke_family(
            session,
            family_id=row.family_id,
            school_id=row.school_id,
            grant_id=row.grant_id,
            app_id=row.app_id,
            actor=events.app(client.client_id),
            reason=REVOKED_BY_APP,
            now=now,
        )
    elif kind is TokenKind.ACCESS:
        claims = await verified_access_token(session, token, issuer=issuer, now=now)
        if claims is None or claims.client_id != client.client_id or claims.expires_at <= now:
            return
        grant_id = uuid.UUID(claims.grant_id) if claims.grant_id is not None else None
        await revoke_access_token(
            session,
            jti=claims.jti,
            app_id=client.app.id,
            grant_id=grant_id,
            expires_at=claims.expires_at,
            now=now,
        )


async def is_access_token_revoked(session: AsyncSession, jti: str) -> bool:
    return (
        await session.scalar(
            select(IssuedAccessToken.revoked_at).where(
                IssuedAccessToken.jti == jti, IssuedAccessToken.revoked_at.is_not(None)
            )
        )
    ) is not None
