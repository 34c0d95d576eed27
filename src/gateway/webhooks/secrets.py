"""Each app's webhook signing secrets (Standard Webhooks `whsec_…`): made, sealed at rest, rotated.

A secret is 32 random bytes, shown to the developer once (at registration with a webhook URL, or at
rotation) as `whsec_` + base64, and stored sealed under a server key with the row's id and the app's id as
associated data, so a sealed secret moved to another row or app does not open. A rotation retires the
current secret 24 hours later: until then every message is signed with both, so the app can switch
without missing one. At most two secrets sign at a time.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.models import App
from gateway.keys.envelope import open_sealed, seal
from gateway.keys.keyring import Keyring
from gateway.webhooks.models import WebhookSecret

__all__ = ["OVERLAP", "PREFIX", "add_secret", "live_secrets", "rotate"]

PREFIX: Final = "whsec_"
OVERLAP: Final = timedelta(hours=24)
SEALING_SECRET: Final = "webhook-secrets"  # noqa: S105 (the name of the server secret that seals them)


def _context(row_id: uuid.UUID, app_id: uuid.UUID) -> bytes:
    return f"webhook-secret|{row_id}|{app_id}".encode()


async def add_secret(session: AsyncSession, keyring: Keyring, app_id: uuid.UUID, now: datetime) -> str:
    """A new current secret for the app (the caller retires any other); returns it, `whsec_…`."""
    raw = secrets.token_bytes(32)
    row = WebhookSecret(id=uuid.uuid4(), app_id=app_id, created_at=now)
    row.sealed = seal(await keyring.secret(session, SEALING_SECRET), raw, _context(row.id, app_id))
    session.add(row)
    await session.flush()
    return PREFIX + base64.b64encode(raw).decode("ascii")


async def rotate(session: AsyncSession, keyring: Keyring, app_id: uuid.UUID, now: datetime) -> str:
    """Retire the current secret in `OVERLAP` and any already retiring at once (two sign at most, as with
    client secrets), and add a new one. The app's row is locked first, so concurrent rotations on
    PostgreSQL take turns instead of leaving two current secrets."""
    await session.execute(select(App.id).where(App.id == app_id).with_for_update())
    await session.execute(
        update(WebhookSecret)
        .where(WebhookSecret.app_id == app_id, WebhookSecret.retired_at > now)
        .values(retired_at=now)
    )
    await session.execute(
        update(WebhookSecret)
        .where(WebhookSecret.app_id == app_id, WebhookSecret.retired_at.is_(None))
        .values(retired_at=now + OVERLAP)
    )
    return await add_secret(session, keyring, app_id, now)


async def live_secrets(
    session: AsyncSession, keyring: Keyring, app_id: uuid.UUID, now: datetime
) -> list[bytes]:
    """The secrets that sign the app's messages now, newest first: the current one and any retiring."""
    rows = await session.scalars(
        select(WebhookSecret)
        .where(
            WebhookSecret.app_id == app_id,
            or_(WebhookSecret.retired_at.is_(None), WebhookSecret.retired_at > now),
        )
        .order_by(WebhookSecret.created_at.desc(), WebhookSecret.id)
    )
    key = await keyring.secret(session, SEALING_SECRET)
    return [open_sealed(key, row.sealed, _context(row.id, row.app_id)) for row in rows]
