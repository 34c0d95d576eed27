"""Problem Details (RFC 9457): the error family domain code raises, and its one rendering.

Domain code raises a `Problem` subclass; `http.error_responses` maps it, OAuth errors and framework errors
(validation, 404, 405, 413, 415, unhandled exceptions) to responses. No stack trace, exception text or
request input is ever echoed back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from fastapi.responses import JSONResponse

from gateway.observability.request_id import current_request_id

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:gateway:problem:"


def problem_responses(texts: Mapping[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for error statuses answered with problem+json, each with its description."""
    return {status: {"description": text, "content": {PROBLEM_JSON: {}}} for status, text in texts.items()}


def field_error(
    detail: str, *, pointer: str | None = None, parameter: str | None = None, location: str | None = None
) -> dict[str, str]:
    """One entry of `errors`: a JSON pointer into the body, or a named query/path/header parameter."""
    entry = {"detail": detail}
    if pointer is not None:
        entry["pointer"] = pointer
    if parameter is not None:
        entry["parameter"] = parameter
        entry["in"] = location or "query"
    return entry


def json_pointer(path: Iterable[str | int]) -> str:
    """RFC 6901 pointer as a URI fragment (RFC 9457 §3 example style: `#/field/0`)."""
    escaped = (str(part).replace("~", "~0").replace("/", "~1") for part in path)
    return "#/" + "/".join(escaped) if path else "#"


class Problem(Exception):
    """A domain error with an HTTP meaning. Subclasses set status, slug and title."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[Mapping[str, str]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)
        self.headers = dict(headers or {})

    @property
    def type(self) -> str:
        return PROBLEM_TYPE_BASE + self.slug


class BadRequest(Problem):
    status, slug, title = 400, "bad-request", "Bad request"


class MalformedJson(Problem):
    status, slug, title = 400, "malformed-json", "Malformed JSON"


class Unauthorized(Problem):
    status, slug, title = 401, "unauthorized", "Unauthorized"


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "Forbidden"


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Conflict"


class ContentTooLarge(Problem):
    status, slug, title = 413, "content-too-large", "Content too large"


class UnsupportedMediaType(Problem):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class UnstorableInput(Problem):
    status, slug, title = 400, "unstorable-value", "Value cannot be stored"

    def __init__(self) -> None:
        super().__init__(
            "A value in the request holds a character that cannot be stored (a NUL or an unpaired "
            "surrogate) or a number beyond 64 bits. Nothing was changed."
        )


class InvalidInput(Problem):
    status, slug, title = 422, "validation-error", "Invalid input"


class ServiceUnavailable(Problem):
    status, slug, title = 503, "unavailable", "Service unavailable"


def problem_response(
    *,
    status: int,
    title: str,
    detail: str,
    type_: str = "about:blank",
    errors: Sequence[Mapping[str, str]] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = list(errors)
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=dict(headers or {}))


def render(problem: Problem) -> JSONResponse:
    return problem_response(
        status=problem.status,
        title=problem.title,
        detail=problem.detail,
        type_=problem.type,
        errors=problem.errors,
        headers=problem.headers,
    )


def validation_errors(raw: Sequence[Any]) -> list[dict[str, str]]:
    """Pydantic/FastAPI error dicts → RFC 9457 `errors` entries, without echoing the rejected input."""
    entries: list[dict[str, str]] = []
    for error in raw:
        loc = list(error.get("loc", ()))
        message = str(error.get("msg", "invalid value"))
        if loc and loc[0] == "body":
            entries.append(field_error(message, pointer=json_pointer(loc[1:])))
        elif loc and loc[0] in {"query", "path", "header", "cookie"} and len(loc) > 1:
            entries.append(field_error(message, parameter=str(loc[1]), location=str(loc[0])))
        else:
            entries.append(field_error(message, pointer=json_pointer(loc)))
    return entries
