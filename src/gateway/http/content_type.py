"""JSON APIs accept JSON bodies only: anything else is 415, not a confusing validation error."""

from __future__ import annotations

from email.message import Message

from fastapi import Request

from gateway.errors import UnsupportedMediaType

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def is_json_media_type(content_type: str | None) -> bool:
    if not content_type:
        return False
    parsed = Message()
    parsed["content-type"] = content_type
    subtype = parsed.get_content_subtype()
    return parsed.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


def has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return "transfer-encoding" in request.headers or (length is not None and length.strip() != "0")


async def require_json(request: Request) -> None:
    """Router dependency for JSON APIs; runs before the body is validated."""
    if (
        request.method in BODY_METHODS
        and has_body(request)
        and not is_json_media_type(request.headers.get("content-type"))
    ):
        raise UnsupportedMediaType("Send the request body as application/json.")
