"""A real `gateway serve` process on 127.0.0.1, for tests that need uvicorn and a browser."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path | None = None
    """Where its stdout and stderr go (None: nowhere)."""


@contextmanager
def launch(
    command: Sequence[str],
    *,
    env: Mapping[str, str],
    health: str,
    log: Path | None = None,
    timeout: float = 60,
) -> Iterator[RunningServer]:
    """Run a server `command` until the block ends (SIGTERM, then SIGKILL after 10 s), ready once `health`
    answers 200. Its output goes to the file `log` or nowhere — never to a pipe: one nobody reads fills
    after some 64 KB of log lines and the server blocks on its next write."""
    parts = urlsplit(health)
    with ExitStack() as stack:
        output = stack.enter_context(log.open("wb")) if log else subprocess.DEVNULL
        process = subprocess.Popen(
            list(command), env={**os.environ, **env}, stdout=output, stderr=output, start_new_session=True
        )
        try:
            deadline = time.monotonic() + timeout
            while not _answers(health):
                if process.poll() is not None:
                    tail = log.read_text()[-2000:] if log else ""
                    raise RuntimeError(f"{' '.join(command[:4])} exited with {process.returncode}: {tail}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{' '.join(command[:4])} did not answer {health} within {timeout} s")
                time.sleep(0.1)
            yield RunningServer(f"{parts.scheme}://{parts.netloc}", process, log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@contextmanager
def gateway_server(
    env: Mapping[str, str], *, workers: int = 1, timeout: float = 30
) -> Iterator[RunningServer]:
    """`gateway serve` on a free port of 127.0.0.1 with `env`; its log in a file (`RunningServer.log`)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    # No drain on the SIGTERM that ends it (nothing balances load in front of a test server), unless the
    # test asks for one.
    full_env = {"GATEWAY_SHUTDOWN_DRAIN_SECONDS": "0", **os.environ, **env, "GATEWAY_ISSUER": base_url}
    command = [sys.executable, "-m", "gateway", "serve", "--port", str(port), "--workers", str(workers)]
    with (
        tempfile.TemporaryDirectory() as logs,
        launch(
            command,
            env=full_env,
            health=f"{base_url}/healthz",
            log=Path(logs) / "gateway.log",
            timeout=timeout,
        ) as server,
    ):
        yield server
