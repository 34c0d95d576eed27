"""Structured JSON logs: a request id on every line; no bodies, query strings, headers or secrets."""

from __future__ import annotations

import io
import json
import logging

import httpx
import pytest

from gateway.observability.logging import REDACTED, RedactingFilter, configure_logging
from gateway.observability.request_id import bind_request_id


async def test_access_log_is_json_without_query_or_headers(client: httpx.AsyncClient) -> None:
    configure_logging("INFO")
    stream = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    try:
        response = await client.get(
            "/healthz?upn=A123456789012", headers={"authorization": "Bearer gw_at_secret", "cookie": "s=1"}
        )
    finally:
        logging.getLogger().handlers.clear()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = [line for line in lines if line["logger"] == "gateway.access"]
    assert access == [
        {
            "time": access[0]["time"],
            "level": "INFO",
            "logger": "gateway.access",
            "message": "request",
            "request_id": response.headers["x-request-id"],
            "method": "GET",
            "route": "/healthz",
            "status": 200,
            "duration_ms": access[0]["duration_ms"],
        }
    ]
    text = stream.getvalue()
    for secret in ("A123456789012", "gw_at_secret", "Bearer", "s=1"):
        assert secret not in text


def test_secret_looking_extra_fields_are_redacted() -> None:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "event", (), None)
    record.client_secret = "hunter2"
    record.refresh_token = "gw_rt_x"
    record.password = "p"
    record.route = "/healthz"
    bind_request_id("req-12345678")
    try:
        assert RedactingFilter().filter(record)
    finally:
        bind_request_id(None)
    assert record.client_secret == REDACTED
    assert record.refresh_token == REDACTED
    assert record.password == REDACTED
    assert record.route == "/healthz"
    assert record.request_id == "req-12345678"


def test_uvicorns_coloured_copy_is_dropped() -> None:
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, "Started", (), None)
    record.color_message = "\x1b[36mStarted\x1b[0m"
    assert RedactingFilter().filter(record)
    assert not hasattr(record, "color_message")


async def test_access_log_goes_through_logging_when_the_handler_is_not_ours(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """The preformatted line is only for `configure_logging`'s handler; with any other (here pytest's
    capture) the access log is an ordinary record with the same fields."""
    with caplog.at_level(logging.INFO, logger="gateway.access"):
        response = await client.get("/healthz")
    records = [record for record in caplog.records if record.name == "gateway.access"]
    assert len(records) == 1
    record = records[0]
    assert record.getMessage() == "request"
    assert (record.method, record.route, record.status) == ("GET", "/healthz", 200)  # type: ignore[attr-defined]
    assert record.duration_ms >= 0  # type: ignore[attr-defined]
    assert response.headers["x-request-id"]
