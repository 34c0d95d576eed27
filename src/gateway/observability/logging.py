"""Structured JSON logs through one redacting filter (STYLE habit 7)."""

from __future__ import annotations

import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

import orjson
from pythonjsonlogger.json import JsonFormatter

from gateway.observability.request_id import current_request_id

REDACTED = "[redacted]"
# Keys whose values must never reach a log line, whatever a caller passes in `extra`.
_SECRET_KEY = re.compile(
    r"pass(word)?|secret|token|authori[sz]ation|cookie|api[_-]?key|master|credential|code|otp|session",
    re.IGNORECASE,
)
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
JSON_HANDLER = "gateway-json"
"""The name of the one handler `configure_logging` installs on the root logger."""


class RedactingFilter(logging.Filter):
    """Adds the request id and blanks secret-looking `extra` fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        record.__dict__.pop("color_message", None)  # uvicorn's ANSI-coloured copy of the message
        for key in list(vars(record)):
            if key not in _STANDARD_ATTRIBUTES and _SECRET_KEY.search(key):
                setattr(record, key, REDACTED)
        return True


def configure_logging(level: str = "INFO") -> None:
    """JSON lines on stderr for our loggers and uvicorn's; uvicorn's access log is replaced by ours."""
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(JSON_HANDLER)
    handler.setFormatter(
        JsonFormatter(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
        )
    )
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    # These log full URLs (query strings included) at INFO; ours never should.
    for name in ("alembic", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(root.level, logging.WARNING))


class AccessLog:
    """One JSON line per request, the same line the JSON handler would write for
    `logger.info("request", extra=fields)`, but preformatted: when the root logger's handler is the one
    `configure_logging` installed, the line is serialised once (orjson) and written to its stream, with
    no LogRecord, caller lookup, filter or formatter. The fields are fixed and never secret (method,
    route template, status, duration, request id), so the redacting filter has nothing to do. Anywhere
    else (a test's own handler, another configuration) it logs through `logging` as usual."""

    def __init__(self, name: str = "gateway.access") -> None:
        self.logger = logging.getLogger(name)

    def request(
        self, method: str, route: str, status: int, duration_ms: float, request_id: str | None
    ) -> None:
        logger = self.logger
        if not logger.isEnabledFor(logging.INFO):
            return
        handlers = logging.root.handlers
        handler = handlers[0] if len(handlers) == 1 else None
        if (
            not isinstance(handler, logging.StreamHandler)
            or handler.name != JSON_HANDLER
            or logger.handlers
            or not logger.propagate
            or handler.level > logging.INFO
        ):
            fields = {"method": method, "route": route, "status": status, "duration_ms": duration_ms}
            logger.info("request", extra=fields)
            return
        line = orjson.dumps(
            {
                "level": "INFO",
                "logger": logger.name,
                "message": "request",
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": duration_ms,
                "request_id": request_id,
                "time": datetime.now(UTC).isoformat(),
            }
        )
        handler.acquire()
        try:
            handler.stream.write(line.decode() + handler.terminator)
            handler.flush()
        finally:
            handler.release()


def log_fields(**fields: Any) -> dict[str, Any]:
    """`extra=` for a log call; a helper so call sites read as data."""
    return fields
