"""The background sender: `deliver_due` every few seconds in each gateway process, until told to stop.

Before each delivery round it runs its producers: jobs that turn waiting work into mail (the answers to
`/forgot-password` requests, `accounts.reset_requests`), so what they queue goes out in the same round.
They are given to the worker by the app, which is what may import them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.background import BackgroundLoop
from gateway.email.sender import deliver_due, purge_finished
from gateway.email.transports import MailTransport
from gateway.observability.logging import log_fields

DEFAULT_INTERVAL_SECONDS = 5.0
PURGE_EVERY_SECONDS = 3600.0
BATCH = 20

logger = logging.getLogger(__name__)

Producer = Callable[[async_sessionmaker[AsyncSession]], Awaitable[object]]
"""`producer(sessions)`: queues mail in transactions of its own; run before each delivery round."""


async def run_outbox_worker(
    sessions: async_sessionmaker[AsyncSession],
    transport: MailTransport,
    *,
    interval: float,
    stop: asyncio.Event,
    producers: Sequence[Producer] = (),
) -> None:
    """Run the producers, then deliver due mail, every `interval` seconds (at once again after a full
    batch) until `stop` is set. Survives every error, logging only its class: the next round may succeed
    (a database back up); a failing producer does not hold up delivery."""
    next_purge = time.monotonic()
    while not stop.is_set():
        full_batch = False
        for producer in producers:
            try:
                await producer(sessions)
            except Exception as exc:
                logger.error("mail producer failed", extra=log_fields(error=type(exc).__name__))
        try:
            report = await deliver_due(sessions, transport, batch=BATCH)
            full_batch = report.claimed >= BATCH
            if time.monotonic() >= next_purge:
                await purge_finished(sessions)
                next_purge = time.monotonic() + PURGE_EVERY_SECONDS
        except Exception as exc:
            logger.error("outbox round failed", extra=log_fields(error=type(exc).__name__))
        if full_batch:
            await asyncio.sleep(0)  # let stop() and the rest of the process in between batches
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


class OutboxWorker(BackgroundLoop):
    """`run_outbox_worker` as a task, for the app's lifespan: `start()` at start-up, `await stop()` at
    shutdown. `stop` lets a send in progress finish for `grace` seconds, then cancels it (the message is
    then retried when its lease ends)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transport: MailTransport,
        *,
        interval: float = DEFAULT_INTERVAL_SECONDS,
        grace: float = 10.0,
        producers: Sequence[Producer] = (),
    ) -> None:
        super().__init__("outbox worker", grace=grace)
        self.sessions = sessions
        self.transport = transport
        self.interval = interval
        self.producers = tuple(producers)

    def start(self) -> None:
        self._start(
            lambda stop: run_outbox_worker(
                self.sessions,
                self.transport,
                interval=self.interval,
                stop=stop,
                producers=self.producers,
            )
        )
