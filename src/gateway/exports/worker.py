"""The export builder beside the app in every `gateway serve` process: `build.build_next` when this process
queues an export (`service.wake`) and every `POLL_SECONDS` otherwise (for exports queued by other processes,
and those whose worker died), until told to stop."""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.background import BackgroundLoop, wait_for_wake_or_stop
from gateway.exports.build import build_next
from gateway.exports.service import wake
from gateway.keys.keyring import Keyring
from gateway.observability.logging import log_fields

__all__ = ["POLL_SECONDS", "ExportWorker", "run_export_worker"]

POLL_SECONDS: Final = 5.0

logger = logging.getLogger(__name__)


async def run_export_worker(
    sessions: async_sessionmaker[AsyncSession],
    keyring: Keyring,
    *,
    issuer: str,
    interval: float,
    stop: asyncio.Event,
) -> None:
    """Build exports one after another while there are any, else wait to be woken or for `interval`.
    Survives every error, logging only its class: the export is claimed again when its heartbeat is stale."""
    while not stop.is_set():
        wake.clear()
        built = None
        try:
            built = await build_next(sessions, keyring, issuer=issuer)
        except Exception as exc:
            logger.error("export build failed", extra=log_fields(error=type(exc).__name__))
        if built is not None:
            await asyncio.sleep(0)
            continue
        await wait_for_wake_or_stop(wake, stop, interval)


class ExportWorker(BackgroundLoop):
    """`run_export_worker` as a task, for the app's lifespan. `stop` lets a build in progress run on for
    `grace` seconds, then cancels it: it rolls back, and another process (or this one, restarted) claims
    the export again once its heartbeat is stale."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        keyring: Keyring,
        *,
        issuer: str,
        interval: float = POLL_SECONDS,
        grace: float = 5.0,
    ) -> None:
        super().__init__("export worker", grace=grace)
        self.sessions, self.keyring, self.issuer, self.interval = sessions, keyring, issuer, interval

    def start(self) -> None:
        self._start(
            lambda stop: run_export_worker(
                self.sessions, self.keyring, issuer=self.issuer, interval=self.interval, stop=stop
            )
        )
