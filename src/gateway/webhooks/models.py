"""What webhooks store (SPEC §3.6): each app's signing secrets, the outbox of messages, each endpoint's state.

- `webhook_secrets`: an app's `whsec_…` secrets, sealed with a server key (AES-256-GCM; the row's id and
  the app's id as associated data). `retired_at` null: the current secret; else when it stops signing (24
  hours after a rotation).
- `webhook_messages`: one row per message: the event, its JSON payload (ids, scope and field names; never
  pupil data), where it goes, and its delivery state.
- `webhook_endpoints`: per app, since when its deliveries have failed without a success, and when and why
  it was disabled.

No foreign key from the messages and secrets to `apps`: a developer deleting an app queues `grant.revoked`
for each of its grants, and those must still be signed and sent after the app's row is gone. The job
purge deletes them once nothing needs them.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, utcnow


class WebhookSecret(Base):
    __tablename__ = "webhook_secrets"
    __table_args__ = (Index("ix_webhook_secrets_app", "app_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    app_id: Mapped[uuid.UUID]
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]


class WebhookMessage(Base):
    __tablename__ = "webhook_messages"
    __table_args__ = (
        Index("ix_webhook_messages_due", "next_attempt_at"),
        Index("ix_webhook_messages_app", "app_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # `msg_…`: the `webhook-id` header
    app_id: Mapped[uuid.UUID]
    url: Mapped[str] = mapped_column(String(2000))  # the app's webhook URL when queued
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)  # the exact JSON body sent
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When it is next due; null once delivered or given up. While a sender holds it, its lease's end.
    next_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_status: Mapped[int | None] = mapped_column(SmallInteger)  # the receiver's HTTP status
    last_error: Mapped[str | None] = mapped_column(String(200))  # why, in our words; never the response


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    app_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    failing_since: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
