"""Queue a webhook in the caller's transaction (the transactional outbox): a change that rolls back sends
nothing, a committed one is always sent. An app without a webhook URL gets no message.

After a transaction that queued messages commits, this process's delivery worker is woken at once
(`wake`); the workers of other processes find the message at their next poll.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.models import App
from gateway.db.after_commit import set_after_commit
from gateway.webhooks.events import WebhookEvent, envelope
from gateway.webhooks.models import WebhookMessage

__all__ = ["enqueue", "new_message_id", "wake", "wake_after_commit"]

wake = asyncio.Event()
"""Set when a transaction that queued webhooks commits in this process; the worker waits on it."""

_HOOKED = "gateway_webhooks_hooked"


def new_message_id() -> str:
    """`msg_` and 26 random hex digits: the `webhook-id` the app deduplicates by."""
    return "msg_" + secrets.token_hex(13)


def wake_after_commit(session: AsyncSession) -> None:
    """Wake this process's worker once the session's transaction commits."""
    set_after_commit(session, wake, _HOOKED)


async def enqueue(
    session: AsyncSession,
    app_id: uuid.UUID,
    webhook_event: WebhookEvent,
    data: Mapping[str, Any],
    now: datetime,
    *,
    url: str | None = None,
) -> WebhookMessage | None:
    """Queue `webhook_event` for the app, due now; None when the app has no webhook URL. `url` overrides
    the app's (for an app being deleted, whose row will be gone when the message is sent)."""
    if url is None:
        app = await session.get(App, app_id)
        url = app.webhook_url if app is not None else None
    if url is None:
        return None
    message = WebhookMessage(
        id=new_message_id(),
        app_id=app_id,
        url=url,
        event_type=webhook_event.value,
        payload=json.dumps(envelope(webhook_event, data, now), separators=(",", ":"), sort_keys=True),
        created_at=now,
        attempts=0,
        next_attempt_at=now,
    )
    session.add(message)
    await session.flush()
    wake_after_commit(session)
    return message
