"""A webhook receiver for tests: a real uvicorn server on 127.0.0.1 (in a thread of its own) that keeps
every delivery, verifies it with the `standardwebhooks` library as an app would, and answers with the
statuses a test queues (default 204)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.server import free_port


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes
    verified: bool

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def json(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value


@dataclass
class Receiver:
    url: str
    secret: str | None = None  # `whsec_…`: deliveries are verified with it as they arrive
    deliveries: list[Delivery] = field(default_factory=list)
    answers: deque[tuple[int, dict[str, str], bytes, float]] = field(default_factory=deque)

    def answer(self, status: int, *, body: bytes = b"", delay: float = 0.0, **headers: str) -> None:
        """The next delivery gets this status, body and headers, after `delay` seconds; later ones the
        default 204 at once."""
        self.answers.append((status, headers, body, delay))

    def verified(self) -> list[Delivery]:
        return [delivery for delivery in self.deliveries if delivery.verified]

    def of_type(self, event: str) -> list[Delivery]:
        return [delivery for delivery in self.deliveries if delivery.json["type"] == event]


@contextmanager
def webhook_receiver(path: str = "/webhooks") -> Iterator[Receiver]:
    port = free_port()
    receiver = Receiver(url=f"http://127.0.0.1:{port}{path}")

    async def receive(request: Request) -> Response:
        body = await request.body()
        headers = {name.lower(): value for name, value in request.headers.items()}
        verified = False
        if receiver.secret is not None:
            try:
                Webhook(receiver.secret).verify(body, headers)
                verified = True
            except WebhookVerificationError:
                verified = False
        receiver.deliveries.append(Delivery(headers, body, verified))
        status, extra, content, delay = (
            receiver.answers.popleft() if receiver.answers else (204, {}, b"", 0.0)
        )
        if delay:
            await asyncio.sleep(delay)
        return Response(content=content, status_code=status, headers=extra)

    app = Starlette(routes=[Route(path, receive, methods=["POST"])])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the webhook receiver did not start")
        time.sleep(0.01)
    try:
        yield receiver
    finally:
        server.should_exit = True
        thread.join(timeout=10)
