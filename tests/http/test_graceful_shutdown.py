"""Graceful shutdown of a real `gateway serve` (issue 18): on SIGTERM `/readyz` answers 503 at once while
the process keeps serving for the drain; then it stops accepting, the request in flight still gets its
200, the background workers stop, and the process exits within drain + grace + the workers' stop.

The request in flight is a token request whose body is sent in two parts: the handler is waiting for the
rest of it when the signal arrives, and is still waiting after the listening socket has closed."""

from __future__ import annotations

import base64
import os
import signal
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote_plus

import httpx
import orjson
import pytest

from gateway.keys.keyring import Keyring
from tests.support.consent_flow import make_party
from tests.support.databases import migrated_database
from tests.support.server import gateway_server

DRAIN_SECONDS = 2.5
GRACE_SECONDS = 5
WORKERS_STOP_SECONDS = 12  # the slowest background worker's own grace (gateway.webhooks.worker)
BODY = b"grant_type=client_credentials"


@dataclass(frozen=True)
class Served:
    env: dict[str, str]
    authorization: str


@pytest.fixture(scope="module")
async def served(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Served]:
    directory: Path = tmp_path_factory.mktemp("graceful-shutdown")
    master_key = os.urandom(32)
    async with migrated_database(directory) as db:
        async with db.sessions() as session:
            party = await make_party(session, Keyring(master_key), "head@graceful-shutdown.example.org")
        assert party.secret is not None
        basic = f"{quote_plus(party.app.client_id)}:{quote_plus(party.secret)}".encode()
        yield Served(
            env={
                "GATEWAY_ENVIRONMENT": "test",
                "GATEWAY_DATABASE_URL": db.url,
                "GATEWAY_MASTER_KEY": base64.b64encode(master_key).decode(),
                "GATEWAY_DATA_DIR": str(directory),
                "GATEWAY_LOG_LEVEL": "INFO",
                "GATEWAY_SHUTDOWN_DRAIN_SECONDS": str(DRAIN_SECONDS),
                "GATEWAY_SHUTDOWN_GRACE_SECONDS": str(GRACE_SECONDS),
            },
            authorization="Basic " + base64.b64encode(basic).decode(),
        )


def _start_token_request(port: int, authorization: str) -> socket.socket:
    """A token request with its headers and half its body sent: in flight, its handler reading the body."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = (
        "POST /oauth/token HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Authorization: {authorization}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(BODY)}\r\n"
        "\r\n"
    )
    connection.sendall(head.encode() + BODY[:10])
    return connection


def _finish(connection: socket.socket) -> tuple[int, dict[str, object]]:
    """Send the rest of the body; read the whole response (the server closes the connection after it)."""
    connection.sendall(BODY[10:])
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    connection.close()
    head, _, body = received.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    headers = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:])
    if headers.get(b"transfer-encoding") == b"chunked":
        size, _, rest = body.partition(b"\r\n")
        body = rest[: int(size, 16)]
    return status, orjson.loads(body)


def _accepting(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def test_sigterm_drains_then_finishes_the_request_in_flight_and_exits(served: Served) -> None:
    with gateway_server(served.env) as server:
        port = int(server.base_url.rsplit(":", 1)[1])
        assert httpx.get(f"{server.base_url}/readyz").status_code == 200
        in_flight = _start_token_request(port, served.authorization)
        time.sleep(0.3)  # the request reaches its handler, which waits for the rest of the body

        signalled = time.monotonic()
        server.process.send_signal(signal.SIGTERM)

        # At once: not ready, with a problem and Retry-After; still serving meanwhile (the drain).
        deadline = time.monotonic() + 1
        while (ready := httpx.get(f"{server.base_url}/readyz")).status_code == 200:
            assert time.monotonic() < deadline, "/readyz still 200 a second after SIGTERM"
            time.sleep(0.05)
        assert ready.status_code == 503
        assert ready.headers["content-type"] == "application/problem+json"
        assert ready.headers["retry-after"] == "5"
        assert ready.json()["detail"] == "The server is shutting down."
        assert httpx.get(f"{server.base_url}/healthz").status_code == 200
        assert time.monotonic() - signalled < DRAIN_SECONDS, "the drain was over before it was observed"

        # After the drain the server stops accepting; the request in flight holds the shutdown.
        while _accepting(port):
            assert time.monotonic() - signalled < DRAIN_SECONDS + GRACE_SECONDS, "still accepting"
            time.sleep(0.1)
        assert server.process.poll() is None

        status, token = _finish(in_flight)
        assert status == 200
        assert token["token_type"] == "Bearer"
        assert token["access_token"]

        server.process.wait(timeout=DRAIN_SECONDS + GRACE_SECONDS + WORKERS_STOP_SECONDS)
        assert server.log is not None
        lines = server.log.read_bytes().splitlines()
    log = [orjson.loads(line) for line in lines if line.startswith(b"{")]
    messages = [entry["message"] for entry in log]
    assert "shutting down: readiness now fails" in messages
    for worker in ("outbox worker", "job runner", "webhook worker", "export worker"):
        assert f"{worker} stopped" in messages
    assert not [entry for entry in log if entry["level"] in ("ERROR", "CRITICAL")]
