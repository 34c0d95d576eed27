"""A loop that runs beside the app in every process (mail delivery, scheduled jobs), with one lifecycle:
`start()` at start-up, `await stop()` at shutdown. `stop` sets the loop's stop event, lets the work in
progress finish for `grace` seconds, then cancels it; a loop that died is logged by its error class only."""

from __future__ import annotations

import asyncio
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
