"""Bodies of `/developer/v1/apps/{client_id}/webhook…` (issue 14, item 5). Never a secret but the one a
rotation shows once; never a receiver's answer (only its status)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from gateway.webhooks.developer import EndpointState
from gateway.webhooks.models import WebhookMessage


class SecretOut(BaseModel):
    created_at: datetime
    retires_at: datetime | None = Field(
        description="Null for the current secret; else when it stops signing."
    )


class WebhookEndpointOut(BaseModel):
    client_id: str
    url: str | None = Field(description="The app's `webhook_url`; null: no webhooks are sent.")
    enabled: bool = Field(
        description="False once disabled: after 3 days of failed deliveries, or at once on `410 Gone`. A "
        "ping or a redelivery enables it again."
    )
    disabled_at: datetime | None
    disabled_reason: str | None
    failing_since: datetime | None = Field(description="The first failure since the last success, if any.")
    secrets: list[SecretOut] = Field(description="The secrets signing messages now, newest first.")

    @classmethod
    def of(cls, state: EndpointState) -> WebhookEndpointOut:
        return cls(
            client_id=state.app.client_id,
            url=state.app.webhook_url,
            enabled=state.disabled_at is None,
            disabled_at=state.disabled_at,
            disabled_reason=state.disabled_reason,
            failing_since=state.failing_since,
            secrets=[SecretOut(created_at=made, retires_at=retires) for made, retires in state.secrets],
        )


class WebhookMessageOut(BaseModel):
    id: str = Field(description="The `webhook-id` header: the same on every attempt and redelivery.")
    event_type: str
    created_at: datetime
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    last_attempt_at: datetime | None
    last_status: int | None = Field(description="The receiver's HTTP status at the last attempt.")
    last_error: str | None = Field(description="Why the last attempt failed, in the gateway's words.")
    next_attempt_at: datetime | None = Field(
        description="When it is tried next; null once delivered or failed."
    )
    delivered_at: datetime | None
    failed_at: datetime | None

    @classmethod
    def of(cls, message: WebhookMessage) -> WebhookMessageOut:
        state: Literal["pending", "delivered", "failed"] = (
            "delivered" if message.delivered_at else "failed" if message.failed_at else "pending"
        )
        return cls(
            id=message.id,
            event_type=message.event_type,
            created_at=message.created_at,
            state=state,
            attempts=message.attempts,
            last_attempt_at=message.last_attempt_at,
            last_status=message.last_status,
            last_error=message.last_error,
            next_attempt_at=message.next_attempt_at,
            delivered_at=message.delivered_at,
            failed_at=message.failed_at,
        )


class WebhookMessageDetail(WebhookMessageOut):
    payload: dict[str, object] = Field(description='The JSON body sent: `{"type", "timestamp", "data"}`.')


class WebhookMessageList(BaseModel):
    messages: list[WebhookMessageOut] = Field(description="Newest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for older messages; null on the last page.")


class WebhookSecretRotated(BaseModel):
    client_id: str
    webhook_secret: str = Field(description="The new `whsec_…`, shown this once.")
    previous_secret_retires_at: datetime = Field(
        description="Until then every message is signed with the old secret too (24 hours)."
    )
