"""The webhook sender beside the app in every `gateway serve` process: `deliver_due` when this process
queues a message (`outbox.wake`) and every second otherwise, until told to stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.background import BackgroundLoop, wait_for_wake_or_stop
from gateway.keys.keyring import Keyring
from gateway.observability.logging import log_fields
from gateway.webhooks.delivery import DeliveryReport, Outbound, deliver_due
from gateway.webhooks.outbox import wake

__all__ = ["POLL_SECONDS", "WebhookWorker", "run_webhook_worker"]

POLL_SECONDS = 1.0
BATCH = 50

logger = logging.getLogger(__name__)


async def run_webhook_worker(
    sessions: async_sessionmaker[AsyncSession],
    keyring: Keyring,
    how: Outbound,
    *,
    interval: float,
    stop: asyncio.Event,
    counted: Callable[[DeliveryReport], None] = lambda _report: None,
) -> None:
    """Deliver what is due, again at once after a full batch, else when woken or after `interval`.
    Survives every error, logging only its class: the next round may succeed (a database back up)."""
    while not stop.is_set():
        wake.clear()
        full = False
        try:
            report = await deliver_due(sessions, keyring, how, batch=BATCH)
            counted(report)
            full = report.claimed >= BATCH
        except Exception as exc:
            logger.error("webhook round failed", extra=log_fields(error=type(exc).__name__))
        if full:
            await asyncio.sleep(0)
            continue
        await wait_for_wake_or_stop(wake, stop, interval)


class WebhookWorker(BackgroundLoop):
    """`run_webhook_worker` as a task, for the app's lifespan. `stop` lets sends in progress finish for
    `grace` seconds (a send takes at most 10 s), then cancels them: their messages go again when the
    claim's lease ends."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        keyring: Keyring,
        how: Outbound,
        *,
        interval: float = POLL_SECONDS,
        grace: float = 12.0,
        counted: Callable[[DeliveryReport], None] = lambda _report: None,
    ) -> None:
        super().__init__("webhook worker", grace=grace)
        self.sessions, self.keyring, self.how = sessions, keyring, how
        self.interval, self.counted = interval, counted

    def start(self) -> None:
        self._start(
            lambda stop: run_webhook_worker(
                self.sessions, self.keyring, self.how, interval=self.interval, stop=stop, counted=self.counted
            )
        )
