"""`GET /oauth/authorize` (RFC 6749 §4.1.1 with PKCE, RFC 7636; RFC 9207 `iss`): check, keep, send to consent.

Thin: `oauth.authorize_request` checks the request and `consent.requests` keeps it. Errors in `client_id`
or `redirect_uri` are shown on a page; every other error goes back to the app's redirect URI. A good
request is kept server-side and the browser goes to `/consent/<id>` (sign-in first if needed).

Throttled first (`oauth.authorize_limits`): per client address before anything is looked up (a 429 page),
per app just before a request would be stored (`temporarily_unavailable` to the redirect URI). A throttled
request stores nothing.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from gateway.accounts.page_session import IssuerDep
from gateway.consent.requests import keep_request, redirect_location
from gateway.db.base import utcnow
from gateway.db.session import SessionDep
from gateway.oauth.authorize_limits import authorize_limits
from gateway.oauth.authorize_request import (
    PARAMETER_MAX_LENGTH,
    RedirectableError,
    UnsafeRequest,
    check_request,
)
from gateway.oauth.errors import OAuthError, TemporarilyUnavailable
from gateway.scopes import SCOPE_NAMES
from gateway.web.templates import render

router = APIRouter(tags=["oauth"])

MAX_QUERY_LENGTH = 8 * PARAMETER_MAX_LENGTH


def _parameter(name: str, description: str, *, required: bool = True, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": {"type": "string", **schema},
    }


PARAMETERS = [
    _parameter("response_type", "Always `code`.", enum=["code"]),
    _parameter("client_id", "Your app's `client_id`."),
    _parameter(
        "redirect_uri",
        "One of your app's registered redirect URIs, character for character (no prefix or case leeway).",
    ),
    _parameter(
        "scope",
        "Space-separated scopes. Your registered required scopes are always asked for; add any of your "
        "registered optional scopes. Left out: all your registered scopes. `school` is always granted.",
        required=False,
        example="school groups students.basic students.demographics",
    ),
    _parameter(
        "state",
        "An unguessable value you check on the redirect (CSRF protection, RFC 9700 §4.7). Up to 1,024 "
        "characters; returned unchanged.",
        required=False,
    ),
    _parameter(
        "code_challenge",
        "PKCE (RFC 7636): BASE64URL(SHA-256(code_verifier)), 43 characters. Required for every client.",
        pattern="^[A-Za-z0-9_-]{43}$",
    ),
    _parameter("code_challenge_method", "Always `S256`; `plain` is refused.", enum=["S256"]),
    _parameter(
        "school_id",
        "The school you are asking (from `GET /api/v1/app/schools` or the school itself). Left out: the "
        "school of the admin who signs in.",
        required=False,
        format="uuid",
    ),
]

DESCRIPTION = f"""\
Send the school admin's browser here to ask a school for data (RFC 6749 §4.1 with PKCE S256).

The admin signs in, reads your Data Access Request on the consent page and approves or denies it field by
field. Then the browser comes back to your `redirect_uri` with, on success, `code`, `state` and
`iss` (RFC 9207: check it equals this server's issuer), or on failure `error`
(`invalid_request`, `unsupported_response_type`, `invalid_scope`, `access_denied`,
`temporarily_unavailable`), `error_description`, `state` and `iss`. Exchange the code at
`POST /oauth/token` within 60 seconds, with the `code_verifier`.

A wrong or missing `client_id` or `redirect_uri` is never redirected: the admin sees an error page. A
parameter given twice is refused; unknown parameters are ignored (RFC 6749 §3.1).

Throttled: too many requests from one address get a 429 page with `Retry-After`; too many good requests
for one app go back to its `redirect_uri` with `error=temporarily_unavailable` (try again shortly).

Scopes: {", ".join(f"`{name}`" for name in SCOPE_NAMES)}.
"""


@router.get(
    "/oauth/authorize",
    summary="Ask a school for access (authorization code with PKCE)",
    description=DESCRIPTION,
    response_class=Response,
    responses={
        302: {"description": "To the consent page, or back to your redirect URI with an error."},
        400: {"description": "An HTML page: `client_id` or `redirect_uri` is missing, unknown or wrong."},
        429: {
            "description": "An HTML page: too many requests from this address; try again after "
            "`Retry-After` seconds.",
            "headers": {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}},
        },
    },
    openapi_extra={"parameters": PARAMETERS},
)
async def authorize(request: Request, session: SessionDep, iss: IssuerDep) -> Response:
    limits = authorize_limits(request)
    if (wait := await limits.address_wait(request)) is not None:
        return _throttled(request, wait)
    if len(request.url.query) > MAX_QUERY_LENGTH:
        return _unsafe(request, "The request from the app is too long.")
    try:
        checked = await check_request(session, request.query_params.multi_items())
    except UnsafeRequest as problem:
        return _unsafe(request, problem.detail)
    except RedirectableError as failed:
        return _back_to_app(failed.redirect_uri, failed.error, failed.state, issuer=iss)
    if (wait := await limits.client_wait(checked.app.client_id)) is not None:
        busy = TemporarilyUnavailable(
            f"Too many authorization requests for this app just now. Try again in {wait} seconds."
        )
        return _back_to_app(checked.redirect_uri, busy, checked.state, issuer=iss)
    pending = await keep_request(
        session,
        app_id=checked.app.id,
        redirect_uri=checked.redirect_uri,
        state=checked.state,
        code_challenge=checked.code_challenge,
        scopes=checked.scopes,
        school_id=checked.school_id,
        now=utcnow(),
    )
    return RedirectResponse(f"/consent/{pending.id}", status_code=302)


def _back_to_app(redirect_uri: str, error: OAuthError, state: str | None, *, issuer: str) -> Response:
    parameters = {"error": error.error, "error_description": error.description, "state": state}
    return RedirectResponse(redirect_location(redirect_uri, parameters, issuer=issuer), status_code=302)


def _throttled(request: Request, wait: int) -> Response:
    response = render(
        request,
        "message.html",
        title="Too many requests",
        message=f"Too many requests to connect an app have come from your network. Nothing has been "
        f"shared. Wait {wait} seconds, then go back to the app and try again.",
        link=None,
        status_code=429,
    )
    response.headers["retry-after"] = str(wait)
    return response


def _unsafe(request: Request, detail: str) -> Response:
    return render(
        request,
        "message.html",
        title="This link to connect an app is not valid",
        message=f"{detail} Nothing has been shared. Tell the app's developer, or go back to the app and "
        "try again.",
        link=None,
        status_code=400,
    )
