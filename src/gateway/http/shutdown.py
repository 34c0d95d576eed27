"""Graceful shutdown behind a load balancer (issue 18).

uvicorn, on SIGTERM, closes its listening socket at once, lets requests in flight finish for
`timeout_graceful_shutdown` seconds, then runs the lifespan's shutdown. Behind a load balancer that is one
step too early: the balancer keeps sending new connections until its health checks fail, and they would be
refused. So the process first *drains*: on SIGTERM `Shutdown` marks it as shutting down (`/readyz` answers
503 from that moment), keeps serving for `drain_seconds`, and only then hands the signal to uvicorn's own
handler, which runs the shutdown above. SIGINT (Ctrl+C) is handed on at once, during a drain too. A
further SIGTERM during the drain changes nothing: with `--workers N` under systemd a worker gets SIGTERM
twice (from systemd and from uvicorn's supervisor), and the drain is bounded anyway.

The handler wraps the one uvicorn installed, in each worker process (with `--workers N` the supervisor
forwards SIGTERM to every worker, which then drains on its own). Where nobody handles SIGTERM (an app in a
test, outside uvicorn) nothing is installed.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from gateway.observability.logging import log_fields

log = logging.getLogger(__name__)

Handler = Callable[[int, FrameType | None], Any]


class Shutdown:
    """The process's shutting-down state: `draining` is False until a shutdown signal (or the lifespan's
    end), then True for good."""

    def __init__(self, drain_seconds: float) -> None:
        self.drain_seconds = drain_seconds
        self._draining = False

    @property
    def draining(self) -> bool:
        return self._draining

    def begin(self) -> None:
        if self._mark():
            self._log_begin()

    def _mark(self) -> bool:
        """Set the flag (no I/O: safe in a signal handler); True if it was not set yet."""
        if self._draining:
            return False
        self._draining = True
        return True

    def _log_begin(self) -> None:
        log.info("shutting down: readiness now fails", extra=log_fields(drain_seconds=self.drain_seconds))

    @contextmanager
    def draining_on_signals(self, loop: asyncio.AbstractEventLoop) -> Iterator[None]:
        """While the block runs, SIGTERM starts the drain and SIGINT shuts down at once (both mark the
        process as shutting down first); the previous handlers are restored afterwards."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
        installed = {
            sig: self._handler(loop, sig, handler)
            for sig, handler in previous.items()
            if callable(handler) and handler is not signal.default_int_handler
        }
        for sig, handler in installed.items():
            signal.signal(sig, handler)
        try:
            yield
        finally:
            for sig in installed:
                signal.signal(sig, previous[sig])

    def _handler(self, loop: asyncio.AbstractEventLoop, sig: int, pass_on: Any) -> Handler:
        # A signal handler interrupts the main thread anywhere, even inside a write to stderr: it only sets
        # the flag and hands the rest (the log line, the timer) to the loop with `call_soon_threadsafe`.
        def on_signal(received: int, frame: FrameType | None) -> None:
            if self._mark():
                loop.call_soon_threadsafe(self._log_begin)
            elif sig == signal.SIGTERM:
                return  # already draining or shutting down
            if sig == signal.SIGTERM and self.drain_seconds > 0:
                loop.call_soon_threadsafe(loop.call_later, self.drain_seconds, pass_on, received, None)
            else:
                pass_on(received, frame)

        return on_signal
