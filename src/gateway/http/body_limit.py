"""Request bodies larger than the limit get 413 problem+json before they are read in full.

A declared `Content-Length` over the limit is refused without reading a byte; a chunked body is counted
as it arrives and refused as soon as it passes the limit. Starlette's own limiter answers in plain text,
so this one raises an `HTTPException` that the error handlers render as RFC 9457.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.http.error_responses import framework_error

TOO_LARGE_DETAIL = "The request body is larger than this endpoint accepts."


def _content_length(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return str(value.decode("latin-1"))
    return None


class BodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=413, detail=TOO_LARGE_DETAIL)


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int, prefix_limits: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.prefix_limits = prefix_limits or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = self.max_bytes
        for prefix, prefix_limit in self.prefix_limits.items():
            if path.startswith(prefix):
                limit = prefix_limit
                break
        declared = _content_length(scope)
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            status, title = (413, "Content Too Large") if declared.isdigit() else (400, "Bad Request")
            detail = TOO_LARGE_DETAIL if status == 413 else "The Content-Length header is not a number."
            await framework_error(path, status=status, title=title, detail=detail)(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        await self.app(scope, counting_receive, send)
