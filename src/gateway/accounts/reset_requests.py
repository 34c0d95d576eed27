"""Forgotten passwords (SPEC §5): `/forgot-password` stores a request; the mail worker answers it.

Whether an address is an admin's must not show, in the answer or in how long it takes. So the page does
the same thing for every well-formed address: it stores a `ResetRequest` (one INSERT, no look-up) and
answers. The mail worker (`email.worker`, every few seconds in each process) then takes the waiting
requests, deletes them, and for each address that is an active admin's queues a reset link, at most one
per admin per `RESET_MAIL_INTERVAL`: repeated requests cannot flood an admin's inbox, and a link already
sent stays valid for its hour. A lockout notice (`service.record_failure`) carries a link too and counts
as the interval's mail.

On PostgreSQL concurrent workers take disjoint requests (`FOR UPDATE SKIP LOCKED`); one guarded UPDATE of
`admins.reset_mailed_at` decides which of two workers answering the same admin sends the mail.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.accounts.models import Admin, ResetRequest
from gateway.accounts.service import lookup_email, mail_reset_link
from gateway.db.base import utcnow
from gateway.db.guarded import changed_rows
from gateway.observability.logging import log_fields

RESET_MAIL_INTERVAL = timedelta(minutes=5)
"""At most one reset link mailed to an admin per this interval, however often it is asked for."""
BATCH = 100
REASON = "You (or someone) asked to reset your password."

logger = logging.getLogger(__name__)


async def request_reset(session: AsyncSession, email: str) -> None:
    """Store a request to mail `email` a reset link: the same single INSERT whoever the address belongs
    to. Input that cannot be an address (too long, control characters) is nobody's and stores nothing."""
    address = lookup_email(email)
    if address is None:
        return
    session.add(ResetRequest(address=address, requested_at=utcnow()))
    await session.flush()


@dataclass(frozen=True)
class ResetAnswers:
    requests: int = 0  # requests taken off the queue
    mailed: int = 0  # reset links queued for sending


async def answer_reset_requests(
    sessions: async_sessionmaker[AsyncSession],
    *,
    issuer: str,
    now: datetime | None = None,
    batch: int = BATCH,
) -> ResetAnswers:
    """Take up to `batch` waiting requests (oldest first) and answer them, in one transaction: the links
    and mails are queued and the requests deleted together. `sessions` must open sessions of their own."""
    now = now or utcnow()
    async with sessions.begin() as session:
        taken = (
            await session.execute(
                select(ResetRequest.id, ResetRequest.address)
                .order_by(ResetRequest.requested_at, ResetRequest.id)
                .limit(batch)
                .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer and renders nothing
            )
        ).all()
        if not taken:
            return ResetAnswers()
        await session.execute(delete(ResetRequest).where(ResetRequest.id.in_([row.id for row in taken])))
        addresses = sorted({row.address for row in taken})
        admins = await session.scalars(
            select(Admin).where(Admin.email.in_(addresses), Admin.disabled_at.is_(None)).order_by(Admin.id)
        )
        mailed = 0
        for admin in admins.all():
            if await _mail_is_due(session, admin, now):
                await mail_reset_link(session, admin, issuer=issuer, reason=REASON)
                mailed += 1
    answers = ResetAnswers(requests=len(taken), mailed=mailed)
    logger.info("reset requests answered", extra=log_fields(requests=answers.requests, mailed=mailed))
    return answers


async def _mail_is_due(session: AsyncSession, admin: Admin, now: datetime) -> bool:
    """Whether this admin's last reset link went out at least `RESET_MAIL_INTERVAL` ago (or never); if so,
    note that one goes out now. One guarded UPDATE: of two workers, only one can see it due."""
    return bool(
        await changed_rows(
            session,
            update(Admin)
            .where(
                Admin.id == admin.id,
                or_(Admin.reset_mailed_at.is_(None), Admin.reset_mailed_at <= now - RESET_MAIL_INTERVAL),
            )
            .values(reset_mailed_at=now),
        )
    )
