"""Deliver due outbox messages: claim, send, record — at least once, and never by two senders at a time.

A sender claims a batch in one short transaction: on PostgreSQL `SELECT … FOR UPDATE SKIP LOCKED`, so
concurrent senders (every `gateway serve` process runs one) take disjoint batches; on SQLite the database
has a single writer. Claiming counts the attempt and moves `next_attempt_at` to the end of a lease, then
commits: no row lock or transaction is held while talking to the mail server (on SQLite that would block
every other writer), and a sender that dies mid-batch leaves its messages to be picked up when the lease
ends. A sender starts no send it could not finish well inside its lease. Each outcome is recorded in its
own transaction; a crash between the server's 250 and that record means the message goes again (the
Message-ID is the same).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from gateway.db.base import utcnow
from gateway.db.guarded import changed_rows
from gateway.email.models import OutboxMessage
from gateway.email.transports import DeliveryError, Mail, MailTransport
from gateway.observability.logging import log_fields

MAX_ATTEMPTS = 12
RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=1)
CLAIM_LEASE = timedelta(minutes=10)
SEND_TIMEOUT = timedelta(seconds=90)  # longest a transport may take for one message (SMTP: 30 s per step)
KEEP_FINISHED = timedelta(days=7)

logger = logging.getLogger(__name__)
_jitter = random.SystemRandom()


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    deferred: int = 0  # failed this time; due again later
    failed: int = 0  # given up on
    released: int = 0  # claimed but not tried: the lease was running out

    @property
    def claimed(self) -> int:
        return self.sent + self.deferred + self.failed + self.released


def retry_delay(attempts: int, *, jitter: Callable[[], float] = _jitter.random) -> timedelta:
    """Wait after the `attempts`-th failure: 30 s, 1 min, 2 min … capped at 1 h, less up to half of it at
    random so senders that failed together do not all come back together."""
    doublings = min(max(attempts - 1, 0), 16)  # 30 s * 2**16 is far past the cap already
    ceiling = min(RETRY_BASE * (1 << doublings), RETRY_CAP)
    return ceiling * (1 - jitter() / 2)


def _due(now: datetime) -> list[ColumnElement[bool]]:
    return [
        OutboxMessage.sent_at.is_(None),
        OutboxMessage.failed_at.is_(None),
        OutboxMessage.next_attempt_at <= now,
    ]


async def _claim(
    sessions: async_sessionmaker[AsyncSession], *, now: datetime, batch: int, lease: timedelta
) -> tuple[list[tuple[Mail, int]], int]:
    """Take up to `batch` due messages, with their attempt numbers; give up on any whose last attempt was
    lost with its sender. Returns the claimed messages and how many were given up on."""
    claimed: list[tuple[Mail, int]] = []
    abandoned = 0
    async with sessions.begin() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(*_due(now))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(batch)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has no row locks and renders nothing
        )
        for row in rows:
            if row.attempts >= MAX_ATTEMPTS:
                row.failed_at = now
                row.body_text = ""
                row.last_error = row.last_error or "LeaseExpired"
                abandoned += 1
                logger.warning("mail given up", extra=log_fields(mail_id=str(row.id), attempts=row.attempts))
                continue
            row.attempts += 1
            row.next_attempt_at = now + lease
            mail = Mail(row.id, row.to_address, row.subject, row.body_text, row.created_at)
            claimed.append((mail, row.attempts))
    return claimed, abandoned


async def _record(
    sessions: async_sessionmaker[AsyncSession], message_id: uuid.UUID, **values: object
) -> None:
    async with sessions.begin() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None))
            .values(**values)
        )


async def _release(
    sessions: async_sessionmaker[AsyncSession], ids: list[uuid.UUID], *, now: datetime
) -> None:
    """Hand back messages claimed but never tried: due again at once, the attempt uncounted."""
    async with sessions.begin() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.sent_at.is_(None))
            .values(attempts=OutboxMessage.attempts - 1, next_attempt_at=now)
        )


async def deliver_due(
    sessions: async_sessionmaker[AsyncSession],
    transport: MailTransport,
    *,
    now: datetime | None = None,
    batch: int = 20,
    lease: timedelta = CLAIM_LEASE,
) -> DeliveryReport:
    """Send up to `batch` messages due at `now` (default: the current time) through `transport`.

    `sessions` must open sessions of their own: the claim and each outcome commit by themselves."""
    now = now or utcnow()
    claimed, failed = await _claim(sessions, now=now, batch=batch, lease=lease)
    sending_until = time.monotonic() + (lease - 2 * SEND_TIMEOUT).total_seconds()
    sent = deferred = 0
    for index, (mail, attempts) in enumerate(claimed):
        if time.monotonic() > sending_until:
            await _release(sessions, [left.id for left, _ in claimed[index:]], now=now)
            return DeliveryReport(sent, deferred, failed, released=len(claimed) - index)
        try:
            async with asyncio.timeout(SEND_TIMEOUT.total_seconds()):
                await transport.send(mail)
        except Exception as exc:  # whatever the transport raises, the message's fate is recorded
            reason = exc.reason if isinstance(exc, DeliveryError) else type(exc).__name__
            fields = log_fields(mail_id=str(mail.id), attempts=attempts, error=reason)
            if (isinstance(exc, DeliveryError) and exc.permanent) or attempts >= MAX_ATTEMPTS:
                await _record(sessions, mail.id, failed_at=now, last_error=reason, body_text="")
                failed += 1
                logger.warning("mail given up", extra=fields)
            else:
                await _record(
                    sessions, mail.id, next_attempt_at=now + retry_delay(attempts), last_error=reason
                )
                deferred += 1
                logger.info("mail deferred", extra=fields)
        else:
            await _record(sessions, mail.id, sent_at=now, last_error=None, body_text="")
            sent += 1
            logger.info("mail sent", extra=log_fields(mail_id=str(mail.id), attempts=attempts))
    return DeliveryReport(sent, deferred, failed)


async def purge_finished(
    sessions: async_sessionmaker[AsyncSession],
    *,
    now: datetime | None = None,
    keep: timedelta = KEEP_FINISHED,
) -> int:
    """Delete messages sent or given up on more than `keep` ago; returns how many."""
    cutoff = (now or utcnow()) - keep
    async with sessions.begin() as session:
        return await changed_rows(
            session,
            delete(OutboxMessage).where(
                or_(OutboxMessage.sent_at < cutoff, OutboxMessage.failed_at < cutoff)
            ),
            synchronize="auto",
        )
