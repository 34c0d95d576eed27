"""Problem Details (RFC 9457): every non-OAuth error is rendered here, and only here.

Domain code raises a `Problem` subclass; framework errors (validation, 404, 405, 413, 415, unhandled
exceptions) are translated by the handlers that `install_error_handlers` registers. No stack trace,
exception text or request input is ever echoed back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.oauth.errors import NO_STORE, OAuthError, oauth_error_response
from gateway.observability.request_id import current_request_id
from gateway.web.templates import error_page

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:gateway:problem:"


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


API_PREFIXES = ("/api/", "/manage/", "/developer/", "/connector/", "/oauth/", "/.well-known/")


def wants_html(request: Request) -> bool:
    """A person's browser on one of our pages (not an API client) gets an HTML error page."""
    return "text/html" in request.headers.get("accept", "") and not request.url.path.startswith(API_PREFIXES)


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    if wants_html(request):
        return error_page(request, exc.status, exc.title, exc.detail, headers=exc.headers)
    return render(exc)


async def _on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = exc.errors()
    if any(error.get("type") == "json_invalid" for error in raw):
        return render(MalformedJson("The request body is not valid JSON."))
    return render(InvalidInput("The request has invalid fields.", errors=validation_errors(raw)))


OAUTH_ENDPOINTS = "/oauth/"


def framework_error(
    path: str, *, status: int, title: str, detail: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """An error raised before any endpoint ran (no route, wrong method, body too large, a crash):
    RFC 6749 §5.2 JSON on the OAuth endpoints (SPEC §6), RFC 9457 everywhere else."""
    if path.startswith(OAUTH_ENDPOINTS):
        code = "server_error" if status >= 500 else "invalid_request"
        return JSONResponse(
            {"error": code, "error_description": detail},
            status_code=status,
            headers={**NO_STORE, **(headers or {})},
        )
    return problem_response(status=status, title=title, detail=detail, headers=headers)


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    detail = {
        404: "No resource at this URL.",
        405: "This URL does not accept that method.",
        413: "The request body is larger than this endpoint accepts.",
    }.get(status, phrase)
    return framework_error(request.url.path, status=status, title=phrase, detail=detail, headers=exc.headers)


def unexpected_error(path: str, exc: Exception) -> JSONResponse:
    """The answer to an exception nothing else handled (logged here, without request data).

    A connection the database dropped (a restart) is 503 with Retry-After: SQLAlchemy has already
    renewed the pool, so the retry gets a fresh connection. Anything else is a 500 with the request id.
    """
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        log.warning("database connection lost; the pool is renewed")
        return framework_error(
            path,
            status=503,
            title=ServiceUnavailable.title,
            detail="The database connection was reset. Try again.",
            headers={"retry-after": "1"},
        )
    log.error("unhandled error", exc_info=exc)
    return framework_error(
        path,
        status=500,
        title="Internal server error",
        detail="Something went wrong on our side. Quote the request id if you contact support.",
    )


async def _on_unhandled(request: Request, exc: Exception) -> JSONResponse:
    return unexpected_error(request.url.path, exc)


async def _on_oauth_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OAuthError)
    return oauth_error_response(exc)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(OAuthError, _on_oauth_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unhandled)
