"""Delivery survives what happens to processes (issue 14, "done when"): a worker that dies after the commit
or after claiming leaves its messages to be sent later; a receiver that is down gets them when it returns;
two senders on PostgreSQL (two `gateway serve` processes) send each message once; a message sent twice (the
outcome lost with its sender) carries the same `webhook-id`, which is how the app drops the repeat."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.apps.models import App
from gateway.db.base import utcnow
from gateway.db.engine import create_engine
from gateway.db.session import Database
from gateway.keys.keyring import Keyring
from gateway.settings import Settings
from gateway.webhooks import secrets
from gateway.webhooks.delivery import CLAIM_LEASE, DeliveryReport, Outbound, _claim, deliver_due
from gateway.webhooks.events import WebhookEvent
from gateway.webhooks.models import WebhookMessage
from gateway.webhooks.outbox import enqueue
from tests.support.databases import migrated_database
from tests.support.server import free_port
from tests.support.webhook_receiver import Receiver, webhook_receiver
from tests.support.world import World

LOOPBACK = Outbound(allow_http=True, allow_private=True)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


async def pings(session: AsyncSession, world: World, url: str, count: int) -> tuple[list[str], str]:
    app = await world.app()
    app.webhook_url = url
    secret = await secrets.rotate(session, world.keyring, app.id, utcnow())
    ids = []
    for n in range(count):
        message = await enqueue(session, app.id, WebhookEvent.PING, {"n": n}, utcnow())
        assert message is not None
        ids.append(message.id)
    await session.commit()
    return ids, secret


async def test_a_message_committed_before_its_worker_died_is_sent_by_the_next_one(
    session: AsyncSession, test_database: Database, world: World, receiver: Receiver
) -> None:
    """Nothing happens between the commit and the send but a poll: a worker started later finds it."""
    ids, receiver.secret = await pings(session, world, receiver.url, 1)
    assert await deliver_due(test_database.sessionmaker, world.keyring, LOOPBACK) == DeliveryReport(
        delivered=1
    )
    assert [d.id for d in receiver.verified()] == ids


async def test_a_worker_that_dies_after_claiming_leaves_the_message_to_the_lease(
    session: AsyncSession, test_database: Database, world: World, receiver: Receiver
) -> None:
    ids, receiver.secret = await pings(session, world, receiver.url, 1)
    now = utcnow()
    claimed, _dropped = await _claim(test_database.sessionmaker, world.keyring, now=now, batch=10)
    assert [message.id for message in claimed] == ids  # ...and the sender dies before sending
    assert await deliver_due(test_database.sessionmaker, world.keyring, LOOPBACK) == DeliveryReport()
    after_lease = now + CLAIM_LEASE + timedelta(seconds=1)
    report = await deliver_due(test_database.sessionmaker, world.keyring, LOOPBACK, now=after_lease)
    assert report == DeliveryReport(delivered=1)
    message = await session.get(WebhookMessage, ids[0], populate_existing=True)
    assert message is not None
    assert message.attempts == 2  # the lost attempt is counted


async def test_a_receiver_down_for_a_while_gets_the_messages_when_it_returns(
    session: AsyncSession, test_database: Database, world: World
) -> None:
    port = free_port()
    ids, secret = await pings(session, world, f"http://127.0.0.1:{port}/webhooks", 3)
    report = await deliver_due(test_database.sessionmaker, world.keyring, LOOPBACK)
    assert report == DeliveryReport(retried=3)  # nothing listening
    with webhook_receiver() as receiver:
        receiver.secret = secret
        async with test_database.sessionmaker() as fresh:
            for message in await fresh.scalars(select(WebhookMessage).where(WebhookMessage.id.in_(ids))):
                assert message.last_error == "could not connect"
                app = await fresh.get(App, message.app_id)
                assert app is not None
                app.webhook_url = receiver.url  # back, on the port the test could get
            await fresh.commit()
        later = utcnow() + timedelta(minutes=1)
        report = await deliver_due(test_database.sessionmaker, world.keyring, LOOPBACK, now=later)
        assert report == DeliveryReport(delivered=3)
        assert sorted(d.id for d in receiver.verified()) == sorted(ids)


async def test_a_message_sent_again_carries_the_same_webhook_id(
    session: AsyncSession, test_database: Database, world: World, receiver: Receiver
) -> None:
    """The send reached the app but its outcome was lost: the message goes again, with the same id and
    body (only the timestamp and so the signature differ), so the app drops it by `webhook-id`."""
    ids, receiver.secret = await pings(session, world, receiver.url, 1)
    await deliver_due(test_database.sessionmaker, world.keyring, LOOPBACK)
    async with test_database.sessionmaker() as fresh:  # as if the delivery's record had been lost
        message = await fresh.get(WebhookMessage, ids[0])
        assert message is not None
        message.delivered_at, message.next_attempt_at = None, utcnow()
        await fresh.commit()
    await deliver_due(test_database.sessionmaker, world.keyring, LOOPBACK)
    first, second = receiver.deliveries
    assert first.id == second.id == ids[0]
    assert first.body == second.body
    assert first.verified
    assert second.verified


@pytest.mark.postgres_only
async def test_two_senders_on_postgresql_send_each_message_once(tmp_path: Path, receiver: Receiver) -> None:
    async with migrated_database(tmp_path, pool_size=12) as database:
        keyring = Keyring(b"k" * 32)
        async with database.sessions() as session:
            world = World(session, keyring, "http://127.0.0.1:8000")
            ids, receiver.secret = await pings(session, world, receiver.url, 60)
        second = create_engine(Settings(database_url=database.url, db_pool_size=6))  # another process's
        try:
            senders = [database.sessions, async_sessionmaker(second, expire_on_commit=False)]
            reports = await asyncio.gather(
                *(
                    deliver_due(sessions, keyring, LOOPBACK, batch=20)
                    for sessions in senders
                    for _ in range(3)
                )
            )
        finally:
            await second.dispose()
        assert sum(report.delivered for report in reports) == 60
        assert sorted(d.id for d in receiver.deliveries) == sorted(ids)  # each once
        assert all(d.verified for d in receiver.deliveries)
        async with database.sessions() as session:
            left = await session.scalar(
                select(func.count()).select_from(WebhookMessage).where(WebhookMessage.delivered_at.is_(None))
            )
        assert left == 0
