"""A real `gateway serve` process on 127.0.0.1, for tests that need uvicorn and a browser."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

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


@contextmanager
def gateway_server(
    env: Mapping[str, str], *, workers: int = 1, timeout: float = 30
) -> Iterator[RunningServer]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    # No drain on the SIGTERM that ends it (nothing balances load in front of a test server), unless the
    # test asks for one.
    full_env = {"GATEWAY_SHUTDOWN_DRAIN_SECONDS": "0", **os.environ, **env, "GATEWAY_ISSUER": base_url}
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--port", str(port), "--workers", str(workers)],
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_until_up(base_url, process, timeout)
        yield RunningServer(base_url, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()


def _wait_until_up(base_url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"gateway serve exited with {process.returncode}: {stderr[-2000:]}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"gateway serve did not answer on {base_url} within {timeout} s")
