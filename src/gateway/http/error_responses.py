"""Errors to responses, in one place (SPEC §6): RFC 9457 problem+json, RFC 6749 JSON on `/oauth/`, and
an HTML page for a person's browser on our pages.

Domain code raises a `Problem` (`gateway.errors`) or an `OAuthError` (`gateway.oauth.errors`); framework
errors (validation, 404, 405, 413, 415, unhandled exceptions) are translated here too. No stack trace,
exception text or request input is ever echoed back.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount
from starlette.types import Scope

from gateway.db.outage import database_unavailable
from gateway.db.unstorable import UnstorableValue
from gateway.errors import (
    InvalidInput,
    MalformedJson,
    Problem,
    ServiceUnavailable,
    UnstorableInput,
    problem_response,
    render,
    validation_errors,
)
from gateway.oauth.errors import NO_STORE, OAuthError, oauth_error_response
from gateway.web.templates import error_page
from gateway.web.templates import render as render_page

log = logging.getLogger(__name__)

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
    invalid = next((error for error in raw if error.get("type") == "json_invalid"), None)
    if invalid is not None:
        # The parser's own reason (`http.json_body`, `json`): fixed text and a position, never the body.
        reason = invalid.get("ctx", {}).get("error")
        detail = "The request body is not valid JSON" + (f": {reason}." if isinstance(reason, str) else ".")
        return render(MalformedJson(detail))
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


# The methods a 405 may name: every method some route of ours takes (CONNECT and TRACE none do).
ALLOW_CANDIDATES: Final = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method a route accepts at this request's path, in `ALLOW_CANDIDATES` order.

    Routes that share a path but not a method are separate routes, and the 405 Starlette raises names only
    the first of them; RFC 9110 §15.5.6 wants them all. Each method is tried against the app's routes (a
    fresh scope, so the request's own is untouched). Mounts (static files) accept any method at matching
    time and are left out: their own 405 carries their Allow.
    """
    scope = request.scope
    allowed = []
    for method in ALLOW_CANDIDATES:
        probe: Scope = {
            "type": "http",
            "method": method,
            "path": scope["path"],
            "root_path": scope.get("app_root_path", scope.get("root_path", "")),  # as the app was served
            "headers": [],
            "query_string": b"",
        }
        if any(
            not isinstance(route, Mount) and route.matches(probe)[0] is Match.FULL
            for route in request.app.router.routes
        ):
            allowed.append(method)
    return allowed


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    if status == 404 and wants_html(request):  # an unknown page: a page for the person, problem+json for APIs
        return render_page(request, "not_found.html", title="Page not found", status_code=404)
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    detail = {
        404: "No resource at this URL.",
        405: "This URL does not accept that method.",
        413: "The request body is larger than this endpoint accepts.",
    }.get(status, phrase)
    headers = dict(exc.headers or {})
    if status == 405 and (methods := allowed_methods(request)):
        headers = {name: value for name, value in headers.items() if name.lower() != "allow"}
        headers["allow"] = ", ".join(methods)
    return framework_error(request.url.path, status=status, title=phrase, detail=detail, headers=headers)


def unexpected_error(path: str, exc: Exception) -> JSONResponse:
    """The answer to an exception nothing else handled (logged here, without request data).

    The database away (`db.outage`: a connection it dropped in a restart — SQLAlchemy has already renewed
    the pool, so the retry gets a fresh connection —, a refused connect while it restarts, a pool checkout
    that timed out) is 503 with Retry-After. Anything else is a 500 with the request id.
    """
    if database_unavailable(exc):
        log.warning("database unavailable", extra={"error": type(exc).__name__})
        return framework_error(
            path,
            status=503,
            title=ServiceUnavailable.title,
            detail="The database is unavailable or its connection was reset. Try again.",
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


async def _on_unstorable(request: Request, exc: Exception) -> Response:
    """A value the database cannot store (`db.unstorable`): 400 in the endpoint's format, nothing written."""
    problem = UnstorableInput()
    if request.url.path.startswith(OAUTH_ENDPOINTS):
        return framework_error(request.url.path, status=400, title=problem.title, detail=problem.detail)
    return await _on_problem(request, problem)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(UnstorableValue, _on_unstorable)
    app.add_exception_handler(OAuthError, _on_oauth_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unhandled)
