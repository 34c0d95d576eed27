"""Server-side admin sessions (SPEC §5): an opaque id in a `__Host-` cookie, stored by SHA-256.

A session is renewed (a new id) whenever its privilege changes — password accepted, second factor
accepted — so an id planted before login is worthless (no fixation). Idle and absolute timeouts.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.accounts.errors import SessionInvalid
from gateway.accounts.models import Admin, AdminSession
from gateway.auth.tokens import new_token, token_digest
from gateway.db.base import utcnow

COOKIE_NAME = "__Host-gw_session"
IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
_SEEN_RESOLUTION = timedelta(minutes=1)


class Stage(StrEnum):
    SECOND_FACTOR = "totp"  # password accepted; the TOTP code is still needed
    ENROL = "enrol"  # password accepted; the school requires TOTP and none is enrolled yet
    FULL = "full"


@dataclass(frozen=True)
class OpenedSession:
    token: str
    record: AdminSession


async def open_session(session: AsyncSession, admin: Admin, stage: Stage) -> OpenedSession:
    token = new_token("gw_ss_")
    now = utcnow()
    record = AdminSession(
        digest=token_digest(token),
        admin_id=admin.id,
        school_id=admin.school_id,
        stage=stage,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + ABSOLUTE_TIMEOUT,
    )
    session.add(record)
    await session.flush()
    return OpenedSession(token, record)


async def renew(session: AsyncSession, current: AdminSession, admin: Admin, stage: Stage) -> OpenedSession:
    """Replace the session with a new id at a new stage (after each step of login)."""
    await session.delete(current)
    return await open_session(session, admin, stage)


async def load_session(session: AsyncSession, token: str | None) -> tuple[AdminSession, Admin]:
    if not token or len(token) > 100:
        raise SessionInvalid
    record = await session.get(AdminSession, token_digest(token))
    now = utcnow()
    if record is None or record.expires_at <= now or now - record.last_seen_at > IDLE_TIMEOUT:
        raise SessionInvalid
    admin = await session.get(Admin, record.admin_id)
    if admin is None or admin.disabled_at is not None or admin.locked_at is not None:
        raise SessionInvalid
    if now - record.last_seen_at > _SEEN_RESOLUTION:
        record.last_seen_at = now
    return record, admin


async def end_session(session: AsyncSession, token: str | None) -> None:
    if token and len(token) <= 100:
        await session.execute(delete(AdminSession).where(AdminSession.digest == token_digest(token)))


async def end_all_sessions(session: AsyncSession, admin: Admin, *, keep: AdminSession | None = None) -> None:
    statement = delete(AdminSession).where(AdminSession.admin_id == admin.id)
    if keep is not None:
        statement = statement.where(AdminSession.digest != keep.digest)
    await session.execute(statement)
