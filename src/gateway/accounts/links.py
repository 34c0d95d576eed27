"""Single-use links for setting a first password and for resetting one (SPEC §5).

Random, stored by SHA-256, single use (one guarded UPDATE), expiring: a reset link after one hour,
an operator's setup link after three days. Using one ends every other session of the admin.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.accounts.errors import LinkInvalid
from gateway.accounts.models import AccountLink, Admin
from gateway.auth.tokens import new_token, token_digest
from gateway.db.base import utcnow


class LinkPurpose(StrEnum):
    SETUP = "setup"
    RESET = "reset"


LIFETIMES = {LinkPurpose.SETUP: timedelta(days=3), LinkPurpose.RESET: timedelta(hours=1)}
PREFIXES = {LinkPurpose.SETUP: "gw_su_", LinkPurpose.RESET: "gw_rs_"}
PATHS = {LinkPurpose.SETUP: "/setup", LinkPurpose.RESET: "/reset-password"}


async def issue_link(session: AsyncSession, admin: Admin, purpose: LinkPurpose) -> str:
    token = new_token(PREFIXES[purpose])
    session.add(
        AccountLink(
            digest=token_digest(token),
            admin_id=admin.id,
            purpose=purpose,
            expires_at=utcnow() + LIFETIMES[purpose],
        )
    )
    await session.flush()
    return token


def link_url(issuer: str, purpose: LinkPurpose, token: str) -> str:
    return f"{issuer}{PATHS[purpose]}?token={token}"


async def redeem_link(session: AsyncSession, token: str, purpose: LinkPurpose) -> Admin:
    """Use the link once: a second use, an expired or a tampered link is refused the same way."""
    if len(token) > 100:
        raise LinkInvalid
    admin_id = await session.scalar(
        update(AccountLink)
        .where(
            AccountLink.digest == token_digest(token),
            AccountLink.purpose == purpose,
            AccountLink.used_at.is_(None),
            AccountLink.expires_at > utcnow(),
        )
        .values(used_at=utcnow())
        .returning(AccountLink.admin_id)
    )
    admin = await session.get(Admin, admin_id) if admin_id is not None else None
    if admin is None or admin.disabled_at is not None:
        raise LinkInvalid
    return admin


async def check_link(session: AsyncSession, token: str, purpose: LinkPurpose) -> Admin:
    """The admin a link would be accepted for, without using it (to show the form or an error page)."""
    found = await session.scalar(
        select(AccountLink.admin_id).where(
            AccountLink.digest == token_digest(token[:100]),
            AccountLink.purpose == purpose,
            AccountLink.used_at.is_(None),
            AccountLink.expires_at > utcnow(),
        )
    )
    admin = await session.get(Admin, found) if found is not None else None
    if admin is None or admin.disabled_at is not None:
        raise LinkInvalid
    return admin
