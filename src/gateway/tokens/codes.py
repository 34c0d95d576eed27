"""Authorization codes (SPEC §3.4, RFC 6749 §4.1.2): `gw_ac_` + 256 random bits, 60 s, single use.

A code is bound to the app, the redirect URI and the PKCE challenge of its request; its row's id names
the token family every token issued from it belongs to, so a second use can revoke them all. It is
consumed by one guarded UPDATE: of two requests racing with the same code, one wins.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.guarded import changed_rows
from gateway.scopes import format_scopes
from gateway.tokens.hashing import digest
from gateway.tokens.models import AuthorizationCode

CODE_PREFIX: Final = "gw_ac_"
CODE_LIFETIME: Final = timedelta(seconds=60)


def new_code() -> str:
    return CODE_PREFIX + secrets.token_urlsafe(32)


async def issue_code(
    session: AsyncSession,
    *,
    app_id: uuid.UUID,
    grant_id: uuid.UUID,
    school_id: uuid.UUID,
    redirect_uri: str,
    code_challenge: str,
    scopes: Iterable[str],
    now: datetime,
) -> str:
    """A new single-use code for a grant; its row's id will name the token family it starts."""
    code = new_code()
    session.add(
        AuthorizationCode(
            code_hash=digest(code),
            app_id=app_id,
            grant_id=grant_id,
            school_id=school_id,
            redirect_uri=redirect_uri,
            code_challenge=code_challenge,
            scopes=format_scopes(scopes),
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
    )
    await session.flush()
    return code


async def find_code(session: AsyncSession, code: str) -> AuthorizationCode | None:
    return await session.scalar(select(AuthorizationCode).where(AuthorizationCode.code_hash == digest(code)))


async def consume_code(session: AsyncSession, row: AuthorizationCode, *, now: datetime) -> bool:
    """Mark the code used; False if another request used it first (that is a second use)."""
    return bool(
        await changed_rows(
            session,
            update(AuthorizationCode)
            .where(AuthorizationCode.id == row.id, AuthorizationCode.used_at.is_(None))
            .values(used_at=now),
        )
    )
