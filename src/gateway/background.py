"""A loop that runs beside the app in every process (mail delivery, scheduled jobs), with one lifecycle:
`start()` at start-up, `await stop()` at shutdown. `stop` sets the loop's stop event, lets the work in
progress finish for `grace` seconds, then cancels it; a loop that died is logged by its error class only."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from gateway.observability.logging import log_fields

logger = logging.getLogger(__name__)


class BackgroundLoop:
    def __init__(self, name: str, *, grace: float) -> None:
        self.name = name
        self.grace = grace
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def _start(self, loop: Callable[[asyncio.Event], Coroutine[Any, Any, None]]) -> None:
        """Run `loop(stop)` as a task until `stop()`."""
        if self._task is not None:
            raise RuntimeError(f"the {self.name} was already started")
        self._task = asyncio.create_task(loop(self._stop), name=f"gateway-{self.name.replace(' ', '-')}")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._stop.set()
        done, _ = await asyncio.wait({self._task}, timeout=self.grace)
        if not done:
            self._task.cancel()
            await asyncio.wait({self._task})
        if not self._task.cancelled() and (error := self._task.exception()) is not None:
            logger.error(f"{self.name} died", extra=log_fields(error=type(error).__name__))
        logger.info(f"{self.name} stopped")


async def wait_for_wake_or_stop(wake: asyncio.Event, stop: asyncio.Event, seconds: float) -> None:
    """Sleep until `wake` or `stop` is set, or `seconds` pass: a worker's pause between rounds, cut short
    by new work (`wake`) or by shutdown (`stop`). Neither event is cleared."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            waiting = asyncio.ensure_future(wake.wait())
            stopping = asyncio.ensure_future(stop.wait())
            try:
                await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiting.cancel()
                stopping.cancel()
