"""The background loop: delivers, survives any error, and stops when told (cancelling a stuck send)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.db.base import utcnow
from gateway.email.models import OutboxMessage
from gateway.email.outbox import enqueue
from gateway.email.sender import CLAIM_LEASE
from gateway.email.transports import Mail
from gateway.email.worker import OutboxWorker, run_outbox_worker

Sessions = async_sessionmaker[AsyncSession]
TO = "bursar@school.example.org"


class Recording:
    """Records each message and signals when `expected` have arrived; `hang` makes every send hang."""

    def __init__(self, expected: int = 1, *, hang: bool = False) -> None:
        self.sent: list[Mail] = []
        self.started = asyncio.Event()
        self.done = asyncio.Event()
        self.expected = expected
        self.hang = hang

    async def send(self, mail: Mail) -> None:
        self.started.set()
        if self.hang:
            await asyncio.Event().wait()
        self.sent.append(mail)
        if len(self.sent) >= self.expected:
            self.done.set()


class Flaky:
    """A sessionmaker whose first `failures` transactions cannot even begin (a database restarting)."""

    def __init__(self, real: Sessions, failures: int) -> None:
        self.real = real
        self.failures = failures

    def begin(self) -> Any:
        if self.failures:
            self.failures -= 1
            raise ConnectionRefusedError(f"could not reach the database for {TO}")
        return self.real.begin()

    def __call__(self) -> AsyncSession:
        return self.real()


async def queued(session: AsyncSession, count: int = 1) -> list[OutboxMessage]:
    messages = [await enqueue(session, to=TO, subject="Locked out", body="Your account is locked.")]
    messages += [await enqueue(session, to=TO, subject="Again", body="b") for _ in range(count - 1)]
    await session.commit()
    return messages


async def test_the_worker_delivers_then_stops_cleanly(session: AsyncSession, sessions: Sessions) -> None:
    [message] = await queued(session)
    transport = Recording()
    worker = OutboxWorker(sessions, transport, interval=0.01)
    worker.start()
    assert worker.running
    with pytest.raises(RuntimeError, match="already started"):
        worker.start()
    await asyncio.wait_for(transport.done.wait(), timeout=10)
    await asyncio.wait_for(worker.stop(), timeout=5)
    assert not worker.running
    assert [mail.id for mail in transport.sent] == [message.id]
    await session.refresh(message)
    assert message.sent_at is not None
    await worker.stop()  # twice is harmless


async def test_a_full_batch_is_followed_at_once_by_the_next(
    session: AsyncSession, sessions: Sessions
) -> None:
    await queued(session, count=45)
    transport = Recording(expected=45)
    worker = OutboxWorker(sessions, transport, interval=60)  # only the drain can send them all in time
    worker.start()
    try:
        await asyncio.wait_for(transport.done.wait(), timeout=10)
    finally:
        await worker.stop()
    assert len({mail.id for mail in transport.sent}) == 45


async def test_the_loop_survives_errors_and_logs_only_their_class(
    session: AsyncSession, sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.email")
    await queued(session)
    transport = Recording()
    stop = asyncio.Event()
    flaky: Any = Flaky(sessions, failures=3)
    task = asyncio.create_task(run_outbox_worker(flaky, transport, interval=0.01, stop=stop))
    try:
        await asyncio.wait_for(transport.done.wait(), timeout=10)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=5)
    assert flaky.failures == 0
    errors = [record for record in caplog.records if record.getMessage() == "outbox round failed"]
    assert len(errors) >= 2
    assert {record.__dict__["error"] for record in errors} == {"ConnectionRefusedError"}
    assert TO not in " ".join(repr(vars(record)) for record in caplog.records)


async def test_stop_cancels_a_stuck_send_after_its_grace(session: AsyncSession, sessions: Sessions) -> None:
    [message] = await queued(session)
    before = utcnow()
    transport = Recording(hang=True)
    worker = OutboxWorker(sessions, transport, interval=0.01, grace=0.05)
    worker.start()
    await asyncio.wait_for(transport.started.wait(), timeout=10)
    await asyncio.wait_for(worker.stop(), timeout=5)
    assert not worker.running
    await session.refresh(message)
    assert message.sent_at is None
    assert message.attempts == 1
    assert message.next_attempt_at >= before + CLAIM_LEASE  # retried by whoever runs after the lease


async def test_stop_before_start_does_nothing(sessions: Sessions) -> None:
    worker = OutboxWorker(sessions, Recording())
    await worker.stop()
    assert not worker.running


async def test_producers_run_before_each_delivery_and_a_failing_one_holds_nothing_up(
    sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.email")
    calls: list[str] = []

    async def broken(_sessions: Sessions) -> None:
        calls.append("broken")
        raise ConnectionRefusedError(f"could not reach the database for {TO}")

    async def producing(given: Sessions) -> None:
        calls.append("producing")
        if calls.count("producing") == 1:
            async with given.begin() as session:
                await enqueue(session, to=TO, subject="Reset", body="A link.")

    transport = Recording()
    worker = OutboxWorker(sessions, transport, interval=0.01, producers=[broken, producing])
    worker.start()
    try:
        await asyncio.wait_for(transport.done.wait(), timeout=10)
    finally:
        await asyncio.wait_for(worker.stop(), timeout=5)
    assert calls[:2] == ["broken", "producing"]  # in their order, before delivery
    assert [mail.subject for mail in transport.sent] == ["Reset"]
    errors = [record for record in caplog.records if record.getMessage() == "mail producer failed"]
    assert errors
    assert {record.__dict__["error"] for record in errors} == {"ConnectionRefusedError"}
    assert TO not in " ".join(repr(vars(record)) for record in caplog.records)
