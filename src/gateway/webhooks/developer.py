"""What a developer does with an app's webhooks (issue 14, item 5): read the endpoint's state and the
delivery log, redeliver a message, send a ping, rotate the signing secret. Every call names the app by its
`client_id` among the developer's own apps (another developer's is 404, like an unknown one).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.models import App
from gateway.apps.service import get_app
from gateway.errors import Conflict, NotFound
from gateway.keys.keyring import Keyring
from gateway.webhooks import events, secrets
from gateway.webhooks.delivery import enable_endpoint
from gateway.webhooks.events import WebhookEvent
from gateway.webhooks.models import WebhookEndpoint, WebhookMessage, WebhookSecret
from gateway.webhooks.outbox import enqueue, wake_after_commit

__all__ = [
    "MAX_PAGE",
    "EndpointState",
    "endpoint_state",
    "messages",
    "one_message",
    "ping",
    "redeliver",
    "rotate_secret",
]

MAX_PAGE: Final = 200


class NoWebhookUrl(Conflict):
    slug, title = "no-webhook-url", "No webhook URL"

    def __init__(self) -> None:
        super().__init__("The app has no webhook URL: set `webhook_url` first (PATCH the app).")


@dataclass(frozen=True, slots=True)
class EndpointState:
    app: App
    failing_since: datetime | None
    disabled_at: datetime | None
    disabled_reason: str | None
    secrets: list[tuple[datetime, datetime | None]]  # (created, retires) of each live secret, newest first


async def endpoint_state(
    session: AsyncSession, developer_id: uuid.UUID, client_id: str, now: datetime
) -> EndpointState:
    app = await get_app(session, developer_id, client_id)
    endpoint = await session.get(WebhookEndpoint, app.id)
    rows = await session.scalars(
        select(WebhookSecret)
        .where(
            WebhookSecret.app_id == app.id,
            or_(WebhookSecret.retired_at.is_(None), WebhookSecret.retired_at > now),
        )
        .order_by(WebhookSecret.created_at.desc(), WebhookSecret.id)
    )
    return EndpointState(
        app=app,
        failing_since=endpoint.failing_since if endpoint else None,
        disabled_at=endpoint.disabled_at if endpoint else None,
        disabled_reason=endpoint.disabled_reason if endpoint else None,
        secrets=[(row.created_at, row.retired_at) for row in rows],
    )


async def messages(
    session: AsyncSession,
    developer_id: uuid.UUID,
    client_id: str,
    *,
    limit: int,
    after: tuple[datetime, str] | None,
) -> Sequence[WebhookMessage]:
    """The app's messages, newest first, after `after`; up to `limit`."""
    app = await get_app(session, developer_id, client_id)
    statement = select(WebhookMessage).where(WebhookMessage.app_id == app.id)
    if after is not None:
        created, message_id = after
        statement = statement.where(
            or_(
                WebhookMessage.created_at < created,
                and_(WebhookMessage.created_at == created, WebhookMessage.id < message_id),
            )
        )
    statement = statement.order_by(WebhookMessage.created_at.desc(), WebhookMessage.id.desc()).limit(limit)
    return (await session.scalars(statement)).all()


async def one_message(
    session: AsyncSession, developer_id: uuid.UUID, client_id: str, message_id: str
) -> WebhookMessage:
    return await _message_of(session, await get_app(session, developer_id, client_id), message_id)


async def _message_of(session: AsyncSession, app: App, message_id: str) -> WebhookMessage:
    message = await session.get(WebhookMessage, message_id)
    if message is None or message.app_id != app.id:
        raise NotFound("The app has no webhook message with this id.")
    return message


async def redeliver(
    session: AsyncSession, developer_id: uuid.UUID, client_id: str, message_id: str, now: datetime
) -> WebhookMessage:
    """Send the message again, at once, with the same `webhook-id`; enables a disabled endpoint."""
    app = await get_app(session, developer_id, client_id)
    message = await _message_of(session, app, message_id)
    if app.webhook_url is None:
        raise NoWebhookUrl
    message.next_attempt_at, message.delivered_at, message.failed_at = now, None, None
    await session.flush()
    await enable_endpoint(session, app.id)
    wake_after_commit(session)
    return message


async def ping(
    session: AsyncSession, developer_id: uuid.UUID, client_id: str, now: datetime
) -> WebhookMessage:
    """Queue a `ping`, due now; enables a disabled endpoint."""
    app = await get_app(session, developer_id, client_id)
    if app.webhook_url is None:
        raise NoWebhookUrl
    await enable_endpoint(session, app.id)
    message = await enqueue(session, app.id, WebhookEvent.PING, events.ping(app.client_id), now)
    assert message is not None
    return message


async def rotate_secret(
    session: AsyncSession, keyring: Keyring, developer_id: uuid.UUID, client_id: str, now: datetime
) -> tuple[App, str]:
    """A new signing secret, shown once; the current one keeps signing for 24 hours more."""
    app = await get_app(session, developer_id, client_id)
    return app, await secrets.rotate(session, keyring, app.id, now)
