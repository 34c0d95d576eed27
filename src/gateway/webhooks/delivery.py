"""Deliver due webhook messages: claim, sign, send, record — at least once, idempotent by `webhook-id`.

Like the mail outbox (`email.sender`): a sender claims a batch in one short transaction (on PostgreSQL
`FOR UPDATE SKIP LOCKED`, so the worker of every `gateway serve` process takes disjoint batches; SQLite has
one writer), counting the attempt and moving `next_attempt_at` to the end of a lease; then it sends with no
transaction open, and records each outcome in a transaction of its own. A sender that dies mid-batch leaves
its messages to be sent again when the lease ends: the receiver sees the same `webhook-id` and drops the
repeat.

**Retries**: after a failure the message is due again after 10 s, 20 s, 40 s … doubling up to 6 hours, less
up to half at random (jitter), for 3 days from when it was queued; then it is marked failed. **Endpoints**:
an app's endpoint that has failed for 3 days without a success is disabled and the developer emailed; `410
Gone` disables it at once. A disabled endpoint's messages fail without a send; a ping or a redelivery
asked for by the developer enables it again. An address the gateway refuses to call (`outbound`) fails the
message at once and is logged.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from gateway.apps.models import App
from gateway.db.base import utcnow
from gateway.db.guarded import changed_rows
from gateway.db.upsert import insert_for
from gateway.developers.models import Developer
from gateway.email.outbox import enqueue as enqueue_mail
from gateway.keys.keyring import Keyring
from gateway.observability.logging import log_fields
from gateway.webhooks import outbound, signing
from gateway.webhooks.models import WebhookEndpoint, WebhookMessage
from gateway.webhooks.secrets import live_secrets

__all__ = [
    "CLAIM_LEASE",
    "DISABLE_AFTER",
    "RETRY_FOR",
    "DeliveryReport",
    "Outbound",
    "backlog",
    "deliver_due",
    "enable_endpoint",
    "retry_delay",
]

RETRY_BASE: Final = timedelta(seconds=10)
RETRY_CAP: Final = timedelta(hours=6)
RETRY_FOR: Final = timedelta(days=3)
DISABLE_AFTER: Final = timedelta(days=3)
CLAIM_LEASE: Final = timedelta(seconds=60)  # well over one send (10 s) and a batch's concurrent sends
CONCURRENT_SENDS: Final = 16

logger = logging.getLogger(__name__)
_jitter = random.SystemRandom()


@dataclass(frozen=True, slots=True)
class Outbound:
    """How sends may go out (`GATEWAY_WEBHOOK_ALLOW_PRIVATE`; http only in development and tests)."""

    allow_http: bool = False
    allow_private: bool = False
    allow_loopback: bool = False  # development: the demo's sample app on 127.0.0.1
    resolver: outbound.Resolver = outbound.resolve


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    delivered: int = 0
    retried: int = 0  # failed this time; due again later
    failed: int = 0  # given up on (or refused, or the endpoint disabled)

    @property
    def claimed(self) -> int:
        return self.delivered + self.retried + self.failed


def retry_delay(attempts: int, *, jitter: Callable[[], float] = _jitter.random) -> timedelta:
    """Wait after the `attempts`-th failure: 10 s doubling, capped at 6 h, less up to half at random."""
    doublings = min(max(attempts - 1, 0), 16)
    ceiling = min(RETRY_BASE * (1 << doublings), RETRY_CAP)
    return ceiling * (1 - jitter() / 2)


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: str
    app_id: uuid.UUID
    url: str
    payload: str
    attempts: int
    created_at: datetime
    secrets: tuple[bytes, ...]


def _due(now: datetime) -> list[ColumnElement[bool]]:
    return [
        WebhookMessage.delivered_at.is_(None),
        WebhookMessage.failed_at.is_(None),
        WebhookMessage.next_attempt_at <= now,
    ]


async def _claim(
    sessions: async_sessionmaker[AsyncSession], keyring: Keyring, *, now: datetime, batch: int
) -> tuple[list[_Claimed], int]:
    """Take up to `batch` due messages; fail at once those whose endpoint is disabled or gone."""
    claimed: list[_Claimed] = []
    dropped = 0
    async with sessions.begin() as session:
        rows = list(
            await session.scalars(
                select(WebhookMessage)
                .where(*_due(now))
                .order_by(WebhookMessage.next_attempt_at, WebhookMessage.id)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        )
        app_ids = {row.app_id for row in rows}
        disabled = set(
            await session.scalars(
                select(WebhookEndpoint.app_id).where(
                    WebhookEndpoint.app_id.in_(app_ids), WebhookEndpoint.disabled_at.is_not(None)
                )
            )
        )
        apps = {app.id: app for app in await session.scalars(select(App).where(App.id.in_(app_ids)))}
        keys: dict[uuid.UUID, tuple[bytes, ...]] = {}
        for row in rows:
            app = apps.get(row.app_id)
            url = row.url if app is None else app.webhook_url  # the app's URL now, or the one it had
            if row.app_id not in keys:
                keys[row.app_id] = tuple(await live_secrets(session, keyring, row.app_id, now))
            reason = None
            if row.app_id in disabled:
                reason = "endpoint disabled"
            elif url is None:
                reason = "no webhook URL"
            elif not keys[row.app_id]:
                reason = "no signing secret"
            if reason is not None:
                row.failed_at, row.next_attempt_at, row.last_error = now, None, reason
                dropped += 1
                continue
            assert url is not None
            row.attempts += 1
            row.next_attempt_at = now + CLAIM_LEASE
            claimed.append(
                _Claimed(row.id, row.app_id, url, row.payload, row.attempts, row.created_at, keys[row.app_id])
            )
    return claimed, dropped


async def _endpoint_row(session: AsyncSession, app_id: uuid.UUID) -> None:
    await session.execute(
        (await insert_for(session, WebhookEndpoint))
        .values(app_id=app_id)
        .on_conflict_do_nothing(index_elements=["app_id"])
    )


async def _disable(session: AsyncSession, app_id: uuid.UUID, reason: str, now: datetime) -> None:
    """Disable the endpoint (once: a guarded UPDATE) and email the developer, in the caller's transaction."""
    disabled = await changed_rows(
        session,
        update(WebhookEndpoint)
        .where(WebhookEndpoint.app_id == app_id, WebhookEndpoint.disabled_at.is_(None))
        .values(disabled_at=now, disabled_reason=reason),
    )
    if not disabled:
        return
    logger.warning("webhook endpoint disabled", extra=log_fields(app_id=str(app_id), reason=reason))
    found = (
        await session.execute(
            select(App.name, App.client_id, Developer.email)
            .join(Developer, Developer.id == App.developer_id)
            .where(App.id == app_id)
        )
    ).first()
    if found is None:
        return
    name, client_id, email = found
    await enqueue_mail(
        session,
        to=email,
        subject=f"Webhooks to {name} are disabled"[:200],
        body=(
            f"The gateway has stopped sending webhooks to your app {name} ({client_id}): {reason}.\n\n"
            "Messages queued while the endpoint is disabled are marked failed. When the endpoint works "
            f"again, send a ping (POST /developer/v1/apps/{client_id}/ping) or redeliver a message: either "
            "enables it again. The delivery log is at "
            f"GET /developer/v1/apps/{client_id}/webhook-deliveries.\n"
        ),
    )


async def enable_endpoint(session: AsyncSession, app_id: uuid.UUID) -> None:
    """The developer asked for a send: the endpoint is enabled again, its failure clock reset."""
    await session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.app_id == app_id)
        .values(disabled_at=None, disabled_reason=None, failing_since=None)
    )


async def _record(
    sessions: async_sessionmaker[AsyncSession], message: _Claimed, outcome: outbound.Outcome, now: datetime
) -> str:
    """Record one failed attempt; `retried` or `failed`."""
    mine = (WebhookMessage.id == message.id, WebhookMessage.delivered_at.is_(None))
    attempted = {"last_attempt_at": now, "last_status": outcome.status, "last_error": outcome.error}
    async with sessions.begin() as session:
        await _endpoint_row(session, message.app_id)
        endpoint = await session.get(WebhookEndpoint, message.app_id, with_for_update=True)
        assert endpoint is not None
        if endpoint.failing_since is None:
            endpoint.failing_since = now
        failing_since = endpoint.failing_since
        if outcome.status == 410:
            await _disable(session, message.app_id, "the endpoint answered 410 Gone", now)
        elif now - failing_since >= DISABLE_AFTER:
            await _disable(session, message.app_id, "every delivery failed for 3 days", now)
        delay = retry_delay(message.attempts)
        permanent = outcome.status == 410 or outcome.permanent
        if permanent or now + delay > message.created_at + RETRY_FOR:
            await session.execute(
                update(WebhookMessage).where(*mine).values(failed_at=now, next_attempt_at=None, **attempted)
            )
            return "failed"
        await session.execute(
            update(WebhookMessage).where(*mine).values(next_attempt_at=now + delay, **attempted)
        )
        return "retried"


async def _send(message: _Claimed, how: Outbound) -> tuple[outbound.Outcome, datetime]:
    sent_at = utcnow()
    headers = signing.headers(message.id, sent_at, message.payload, message.secrets)
    try:
        outcome = await outbound.post(
            message.url,
            message.payload.encode(),
            headers,
            allow_http=how.allow_http,
            allow_private=how.allow_private,
            allow_loopback=how.allow_loopback,
            resolver=how.resolver,
        )
    except outbound.Refused as refused:
        logger.warning("webhook refused", extra=log_fields(app_id=str(message.app_id), reason=refused.reason))
        outcome = outbound.Outcome(None, refused.reason, permanent=refused.permanent)
    return outcome, sent_at


async def deliver_due(
    sessions: async_sessionmaker[AsyncSession],
    keyring: Keyring,
    how: Outbound,
    *,
    now: datetime | None = None,
    batch: int = 50,
) -> DeliveryReport:
    """Send up to `batch` messages due at `now` (default: the current time), up to 16 at a time.

    `sessions` must open sessions of their own: the claim and each outcome commit by themselves."""
    claimed, dropped = await _claim(sessions, keyring, now=now or utcnow(), batch=batch)  # `now`: for tests
    gate = asyncio.Semaphore(CONCURRENT_SENDS)

    async def one(message: _Claimed) -> tuple[_Claimed, outbound.Outcome, datetime]:
        async with gate:
            outcome, sent_at = await _send(message, how)
        return message, outcome, sent_at if now is None else now

    sent = await asyncio.gather(*(one(message) for message in claimed))
    delivered = [(message, at) for message, outcome, at in sent if outcome.delivered]
    await _record_delivered(sessions, delivered, {id(message): outcome for message, outcome, _at in sent})
    results = ["delivered"] * len(delivered)
    for message, outcome, at in sent:
        if not outcome.delivered:
            results.append(await _record(sessions, message, outcome, at))
    for message, outcome, _at in sent:
        logger.log(
            logging.INFO if outcome.delivered else logging.WARNING,
            "webhook delivered" if outcome.delivered else "webhook not delivered",
            extra=log_fields(
                message_id=message.id,
                app_id=str(message.app_id),
                attempts=message.attempts,
                status=outcome.status,
                error=outcome.error,
            ),
        )
    return DeliveryReport(
        delivered=results.count("delivered"),
        retried=results.count("retried"),
        failed=results.count("failed") + dropped,
    )


async def _record_delivered(
    sessions: async_sessionmaker[AsyncSession],
    delivered: Sequence[tuple[_Claimed, datetime]],
    outcomes: dict[int, outbound.Outcome],
) -> None:
    """Record every delivery of a round in one transaction (a batch's outcomes would otherwise cost a
    transaction each); their endpoints' failure clocks are reset."""
    if not delivered:
        return
    async with sessions.begin() as session:
        for (status, at), ids in _grouped(delivered, outcomes).items():
            await session.execute(
                update(WebhookMessage)
                .where(WebhookMessage.id.in_(ids), WebhookMessage.delivered_at.is_(None))
                .values(
                    delivered_at=at,
                    next_attempt_at=None,
                    last_attempt_at=at,
                    last_status=status,
                    last_error=None,
                )
            )
        await session.execute(
            update(WebhookEndpoint)
            .where(
                WebhookEndpoint.app_id.in_({message.app_id for message, _at in delivered}),
                WebhookEndpoint.failing_since.is_not(None),
            )
            .values(failing_since=None)
        )


def _grouped(
    delivered: Sequence[tuple[_Claimed, datetime]], outcomes: dict[int, outbound.Outcome]
) -> dict[tuple[int | None, datetime], list[str]]:
    groups: dict[tuple[int | None, datetime], list[str]] = {}
    for message, at in delivered:
        groups.setdefault((outcomes[id(message)].status, at), []).append(message.id)
    return groups


async def backlog(session: AsyncSession, now: datetime) -> tuple[int, float]:
    """How many messages wait (not delivered, not given up), and the oldest one's age in seconds."""
    count, oldest = (
        await session.execute(
            select(func.count(), func.min(WebhookMessage.created_at)).where(
                WebhookMessage.delivered_at.is_(None), WebhookMessage.failed_at.is_(None)
            )
        )
    ).one()
    return int(count), 0.0 if oldest is None else max(0.0, (now - oldest).total_seconds())
