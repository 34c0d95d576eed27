"""Structured JSON logs through one redacting filter (STYLE habit 7)."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from gateway.observability.request_id import current_request_id

REDACTED = "[redacted]"
# Keys whose values must never reach a log line, whatever a caller passes in `extra`.
_SECRET_KEY = re.compile(
    r"pass(word)?|secret|token|authori[sz]ation|cookie|api[_-]?key|master|credential|code|otp|session",
    re.IGNORECASE,
)
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


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


def log_fields(**fields: Any) -> dict[str, Any]:
    """`extra=` for a log call; a helper so call sites read as data."""
    return fields
