"""The webhook worker beside the app: woken by this process's commit, it delivers at once; its counts and the
backlog (read from the database at each scrape) are on `/metrics`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.base import utcnow
from gateway.db.session import Database
from gateway.webhooks import secrets
from gateway.webhooks.delivery import DeliveryReport, Outbound
from gateway.webhooks.events import WebhookEvent
from gateway.webhooks.outbox import enqueue
from gateway.webhooks.worker import WebhookWorker
from tests.support.webhook_receiver import Receiver, webhook_receiver
from tests.support.world import World


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


async def test_a_commit_wakes_the_worker_which_delivers_at_once(
    session: AsyncSession, test_database: Database, world: World, receiver: Receiver
) -> None:
    app = await world.app()
    app.webhook_url = receiver.url
    receiver.secret = await secrets.rotate(session, world.keyring, app.id, utcnow())
    await session.commit()
    reports: list[DeliveryReport] = []
    worker = WebhookWorker(
        test_database.sessionmaker,
        world.keyring,
        Outbound(allow_http=True, allow_private=True),
        interval=60.0,  # far longer than the test: only the wake-up can explain a prompt delivery
        counted=reports.append,
    )
    worker.start()
    try:
        await asyncio.sleep(0.2)  # its first round finds nothing
        message = await enqueue(session, app.id, WebhookEvent.PING, {}, utcnow())
        assert message is not None
        await session.commit()
        async with asyncio.timeout(10):
            while not receiver.deliveries:  # noqa: ASYNC110 (the receiver runs in a thread of its own)
                await asyncio.sleep(0.02)
    finally:
        await worker.stop()
    assert [d.id for d in receiver.verified()] == [message.id]
    assert sum(report.delivered for report in reports) == 1


async def test_metrics_show_the_backlog_and_this_processs_attempts(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, world: World
) -> None:
    hooked = await world.app()
    hooked.webhook_url = "https://hooks.example.org/in"
    for _ in range(2):
        await enqueue(session, hooked.id, WebhookEvent.PING, {}, utcnow())
    await session.commit()
    app.state.metrics.count_webhooks(delivered=3, retried=1, failed=0)

    text = (await client.get("/metrics")).text

    assert "gateway_webhook_pending_messages 2.0" in text
    oldest = next(
        line for line in text.splitlines() if line.startswith("gateway_webhook_oldest_pending_seconds ")
    )
    assert float(oldest.split()[1]) >= 0.0
    assert 'gateway_webhook_deliveries_total{outcome="delivered"} 3.0' in text
    assert 'gateway_webhook_deliveries_total{outcome="retried"} 1.0' in text
