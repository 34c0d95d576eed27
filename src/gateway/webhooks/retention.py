"""What the purge job (`jobs.purge`) deletes of webhooks: messages delivered or given up more than 30 days
ago (the developer's delivery log keeps a month), secrets past their retirement, and what is left of a
deleted app (its secrets and endpoint state) once none of its messages waits."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import and_, delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.models import App
from gateway.db.guarded import changed_rows
from gateway.webhooks.models import WebhookEndpoint, WebhookMessage, WebhookSecret

__all__ = ["KEEP_FINISHED", "purge_webhooks"]

KEEP_FINISHED: Final = timedelta(days=30)


async def purge_webhooks(session: AsyncSession, now: datetime) -> dict[str, int]:
    cutoff = now - KEEP_FINISHED
    messages = await changed_rows(
        session,
        delete(WebhookMessage).where(
            or_(WebhookMessage.delivered_at < cutoff, WebhookMessage.failed_at < cutoff)
        ),
        synchronize=False,
    )
    app_gone = ~exists(select(App.id).where(App.id == WebhookSecret.app_id))
    nothing_waits = ~exists(
        select(WebhookMessage.id).where(
            WebhookMessage.app_id == WebhookSecret.app_id,
            WebhookMessage.delivered_at.is_(None),
            WebhookMessage.failed_at.is_(None),
        )
    )
    secrets = await changed_rows(
        session,
        delete(WebhookSecret).where(or_(WebhookSecret.retired_at <= now, and_(app_gone, nothing_waits))),
        synchronize=False,
    )
    endpoints = await changed_rows(
        session,
        delete(WebhookEndpoint).where(~exists(select(App.id).where(App.id == WebhookEndpoint.app_id))),
        synchronize=False,
    )
    return {"webhook_messages": messages, "webhook_secrets": secrets, "webhook_endpoints": endpoints}
