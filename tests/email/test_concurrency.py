"""On PostgreSQL, senders in several processes share one outbox: none sends a message another has."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.db import migrations
from gateway.db.engine import create_engine
from gateway.email.models import OutboxMessage
from gateway.email.outbox import enqueue
from gateway.email.sender import deliver_due
from gateway.email.transports import Mail
from gateway.settings import Settings
from tests.support.databases import throwaway_database

pytestmark = pytest.mark.postgres_only

MESSAGES = 60


class Slow:
    """A transport that takes a moment per message, so the senders' rounds overlap."""

    def __init__(self, name: str, log: list[tuple[str, Mail]]) -> None:
        self.name = name
        self.log = log

    async def send(self, mail: Mail) -> None:
        await asyncio.sleep(0.005)
        self.log.append((self.name, mail))


async def fill(sessions: async_sessionmaker[AsyncSession], count: int) -> list[OutboxMessage]:
    async with sessions.begin() as session:
        return [
            await enqueue(session, to=f"admin{n}@school.example.org", subject=f"Message {n}", body="link")
            for n in range(count)
        ]


async def test_concurrent_senders_never_send_one_message_twice(tmp_path: Path) -> None:
    async with throwaway_database(tmp_path) as url:
        engine = create_engine(Settings(database_url=url, db_pool_size=8))
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        try:
            await migrations.upgrade(engine)
            await fill(sessions, MESSAGES)
            log: list[tuple[str, Mail]] = []
            senders = [Slow(f"sender-{n}", log) for n in range(4)]
            while len(log) < MESSAGES:
                await asyncio.gather(*(deliver_due(sessions, sender, batch=10) for sender in senders))

            counts = Counter(mail.id for _, mail in log)
            assert len(counts) == MESSAGES
            assert set(counts.values()) == {1}
            assert len({name for name, _ in log}) == 4
            async with sessions() as check:
                pending = select(func.count()).where(OutboxMessage.sent_at.is_(None))
                assert await check.scalar(pending) == 0
        finally:
            await engine.dispose()


async def test_a_message_locked_by_another_sender_is_skipped_not_waited_for(tmp_path: Path) -> None:
    async with throwaway_database(tmp_path) as url:
        engine = create_engine(Settings(database_url=url))
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        try:
            await migrations.upgrade(engine)
            held, *others = await fill(sessions, 3)
            log: list[tuple[str, Mail]] = []
            async with sessions.begin() as other_sender:
                await other_sender.execute(
                    select(OutboxMessage.id).where(OutboxMessage.id == held.id).with_for_update()
                )
                report = await asyncio.wait_for(deliver_due(sessions, Slow("me", log)), timeout=10)
                assert report.sent == 2
                assert {mail.id for _, mail in log} == {message.id for message in others}
            report = await deliver_due(sessions, Slow("me", log))
            assert report.sent == 1
            assert log[-1][1].id == held.id
        finally:
            await engine.dispose()
