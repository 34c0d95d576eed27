"""Outermost application middleware: request id, access log, metrics, and a last-resort 500.

A pure ASGI middleware (no BaseHTTPMiddleware) so streaming and cancellation behave. It logs the method,
route template, status and duration — never bodies, query strings or headers.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.http.error_responses import unexpected_error
from gateway.observability.logging import AccessLog
from gateway.observability.metrics import UNMATCHED_ROUTE, Metrics
from gateway.observability.request_id import REQUEST_ID_HEADER, bind_request_id, choose_request_id

access_log = AccessLog()
log = logging.getLogger(__name__)
_HEADER = REQUEST_ID_HEADER.encode()


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == _HEADER:
            return str(value.decode("latin-1"))
    return None


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = choose_request_id(_incoming_id(scope))
        raw_id = request_id.encode()
        bind_request_id(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = [
                    *(header for header in message.get("headers", ()) if header[0] != _HEADER),
                    (_HEADER, raw_id),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if response_started:
                log.error("unhandled error after the response started", exc_info=exc)
                raise
            await unexpected_error(scope["path"], exc)(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            self.metrics.observe(scope["method"], route, status, elapsed)
            access_log.request(scope["method"], route, status, round(elapsed * 1000, 2), request_id)
            bind_request_id(None)
