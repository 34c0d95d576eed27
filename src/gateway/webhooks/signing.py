"""The three Standard Webhooks headers of one send, with the `standardwebhooks` library's signature.

`webhook-signature` carries one `v1,…` per live secret, space-separated: during a rotation the app verifies
with either its old or its new secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from standardwebhooks import Webhook

__all__ = ["headers"]


def headers(message_id: str, sent_at: datetime, body: str, secrets: Sequence[bytes]) -> dict[str, str]:
    if not secrets:
        raise ValueError("a webhook needs at least one secret to be signed with")
    signatures = " ".join(Webhook(secret).sign(message_id, sent_at, body) for secret in secrets)
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signatures,
        "user-agent": "gateway-webhooks/1",
    }
