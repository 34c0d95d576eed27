"""`http.shutdown`: SIGTERM marks the process as shutting down at once and reaches the server's own handler
only after the drain; SIGINT reaches it at once; nothing is installed where nobody handles the signals."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from gateway.http.shutdown import Shutdown


@contextmanager
def server_handlers() -> Iterator[list[int]]:
    """Stand-ins for uvicorn's handlers on SIGTERM and SIGINT, recording what reaches them."""
    received: list[int] = []

    def record(sig: int, _frame: FrameType | None) -> None:
        received.append(sig)

    before = {sig: signal.signal(sig, record) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield received
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


async def test_sigterm_reaches_the_server_after_the_drain_and_only_once() -> None:
    shutdown = Shutdown(drain_seconds=0.3)
    with server_handlers() as received:
        server_handler = signal.getsignal(signal.SIGTERM)
        with shutdown.draining_on_signals(asyncio.get_running_loop()):
            assert not shutdown.draining
            os.kill(os.getpid(), signal.SIGTERM)
            await asyncio.sleep(0.05)
            assert shutdown.draining
            assert received == []
            os.kill(os.getpid(), signal.SIGTERM)  # a second SIGTERM (systemd and the supervisor): no change
            await asyncio.sleep(0.5)
            assert received == [signal.SIGTERM]
        assert signal.getsignal(signal.SIGTERM) is server_handler


async def test_sigint_reaches_the_server_at_once() -> None:
    shutdown = Shutdown(drain_seconds=30)
    with server_handlers() as received, shutdown.draining_on_signals(asyncio.get_running_loop()):
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.sleep(0.05)
        assert shutdown.draining
        assert received == [signal.SIGINT]


async def test_without_a_drain_sigterm_reaches_the_server_at_once() -> None:
    shutdown = Shutdown(drain_seconds=0)
    with server_handlers() as received, shutdown.draining_on_signals(asyncio.get_running_loop()):
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.sleep(0.05)
        assert shutdown.draining
        assert received == [signal.SIGTERM]


async def test_nothing_is_installed_where_nobody_handles_sigterm() -> None:
    before = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        with Shutdown(drain_seconds=1).draining_on_signals(asyncio.get_running_loop()):
            assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, before)


async def test_sigint_during_the_drain_reaches_the_server_at_once() -> None:
    shutdown = Shutdown(drain_seconds=30)
    with server_handlers() as received, shutdown.draining_on_signals(asyncio.get_running_loop()):
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.sleep(0.05)
        assert received == []
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.sleep(0.05)
        assert received == [signal.SIGINT]
