"""The purge job's share of webhooks: finished messages kept 30 days, retired secrets dropped, a deleted
app's secrets kept while its last messages wait (they are signed with them), then dropped."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.models import App
from gateway.db.base import utcnow
from gateway.jobs.purge import purge_expired
from gateway.webhooks import secrets
from gateway.webhooks.events import WebhookEvent
from gateway.webhooks.models import WebhookEndpoint, WebhookMessage, WebhookSecret
from gateway.webhooks.outbox import enqueue
from gateway.webhooks.retention import KEEP_FINISHED
from tests.support.world import World


async def message(session: AsyncSession, app: App, **state: object) -> WebhookMessage:
    queued = await enqueue(
        session, app.id, WebhookEvent.PING, {}, utcnow(), url="https://hooks.example.org/in"
    )
    assert queued is not None
    for name, value in state.items():
        setattr(queued, name, value)
    await session.commit()
    return queued


async def ids(session: AsyncSession) -> set[str]:
    return set(await session.scalars(select(WebhookMessage.id)))


async def test_finished_messages_go_after_30_days_and_waiting_ones_stay(
    session: AsyncSession, world: World
) -> None:
    app = await world.app()
    now = utcnow()
    old = now - KEEP_FINISHED - timedelta(minutes=1)
    gone = [
        await message(session, app, delivered_at=old, next_attempt_at=None),
        await message(session, app, failed_at=old, next_attempt_at=None),
    ]
    kept = [
        await message(session, app, delivered_at=now - timedelta(days=29), next_attempt_at=None),
        await message(session, app),  # waiting
    ]
    counts = await purge_expired(session, now)
    await session.commit()
    assert counts["webhook_messages"] == 2
    remaining = await ids(session)
    assert {m.id for m in kept} <= remaining
    assert not {m.id for m in gone} & remaining


async def test_retired_secrets_go_and_a_deleted_apps_stay_while_its_messages_wait(
    session: AsyncSession, world: World
) -> None:
    app = await world.app()  # registration made its first secret
    now = utcnow()
    await secrets.rotate(session, world.keyring, app.id, now - timedelta(hours=25))  # the first retired
    await session.commit()
    assert len(await secrets.live_secrets(session, world.keyring, app.id, now)) == 1
    waiting = await message(session, app)
    session.add(WebhookEndpoint(app_id=app.id))
    await session.execute(delete(App).where(App.id == app.id))
    await session.commit()

    counts = await purge_expired(session, now)
    await session.commit()
    assert counts["webhook_secrets"] == 1  # the retired one; the current one signs the waiting message
    assert counts["webhook_endpoints"] == 1
    assert len(await secrets.live_secrets(session, world.keyring, app.id, now)) == 1

    waiting.delivered_at, waiting.next_attempt_at = now, None
    await session.commit()
    counts = await purge_expired(session, now)
    await session.commit()
    assert counts["webhook_secrets"] == 1
    assert await session.scalar(select(WebhookSecret.id).where(WebhookSecret.app_id == app.id)) is None


async def test_at_most_two_secrets_sign_after_rotations(session: AsyncSession, world: World) -> None:
    app = await world.app()
    now = utcnow()
    for _ in range(3):
        await secrets.rotate(session, world.keyring, app.id, now)
    await session.commit()
    assert len(await secrets.live_secrets(session, world.keyring, app.id, now + timedelta(seconds=1))) == 2
