"""`/api/v1/app/…`: the app's own endpoints (SPEC §3.6, §7). Thin: parse, one service call, a schema.

- `GET /api/v1/app/schools` with an app-level token (client_credentials): the schools whose grant is live.
- `POST /api/v1/app/disconnect` with a school token: the app ends its grant for that school.

The token is always checked first (401/403 before any other answer); then the query-parameter allowlist
(unknown or repeated parameters: 400).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from gateway.app_api import service
from gateway.app_api.schemas import GrantedSchoolList, GrantedSchoolOut
from gateway.db.base import utcnow
from gateway.db.session import SessionDep
from gateway.errors import problem_responses
from gateway.http.api_limits import RateLimitedRoute
from gateway.http.cursors import (
    CURSOR_SECRET,
    MAX_CURSOR_LENGTH,
    InvalidCursor,
    cursor_refused,
    open_cursor,
    seal_cursor,
)
from gateway.http.query import query_allowlist
from gateway.keys.dependencies import KeyringDep
from gateway.oauth.bearer import AppTokenDep, SchoolTokenDep

router = APIRouter(prefix="/api/v1/app", tags=["data"], route_class=RateLimitedRoute)


_TOKEN_PROBLEMS = {
    400: "Unknown or repeated query parameter, a cursor this endpoint did not hand out, or an access token "
    "in the URL or body",
    401: "Missing, malformed, expired or revoked access token (`WWW-Authenticate: Bearer … invalid_token`)",
    429: "The token is over its rate limit (`RateLimit-Policy`, as on the data API): `Retry-After` says "
    "when to try again",
}


@dataclass(frozen=True, slots=True)
class Page:
    limit: int
    cursor: str | None


async def page_query(
    limit: Annotated[
        int, Query(ge=1, le=service.MAX_PAGE, description="Schools per page.")
    ] = service.DEFAULT_PAGE,
    cursor: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_CURSOR_LENGTH,
            description="`next_cursor` of the previous page. Opaque and signed: a cursor is only valid "
            "for the app it was made for.",
        ),
    ] = None,
) -> Page:
    """The paging parameters (async: a class or plain-function dependency costs a thread hop)."""
    return Page(limit, cursor)


def _after(position: dict[str, Any]) -> uuid.UUID:
    """The last grant of the page before."""
    grant_id = position.get("g")
    if not isinstance(grant_id, str):
        raise InvalidCursor
    try:
        return uuid.UUID(grant_id)
    except ValueError:
        raise InvalidCursor from None


@router.get(
    "/schools",
    summary="List the schools that have granted this app access",
    description=(
        "Needs an app-level token (client_credentials grant). Every school with a live grant for the app, "
        "with the grant id, the scopes granted now and a summary of the audience. Keyset-paginated by "
        'grant id: follow `next_cursor` (or the `Link: rel="next"` header) until it is null.'
    ),
    response_model=GrantedSchoolList,
    responses=problem_responses(
        {
            **_TOKEN_PROBLEMS,
            403: "A school token: this endpoint needs an app-level token (`insufficient_scope`)",
            422: "`limit` outside 1 to 500, or an over-long cursor",
        }
    ),
)
async def list_schools(
    token: AppTokenDep,
    _query: Annotated[None, Depends(query_allowlist("limit", "cursor"))],
    page: Annotated[Page, Depends(page_query)],
    session: SessionDep,
    ring: KeyringDep,
    request: Request,
    response: Response,
) -> GrantedSchoolList:
    key = await ring.secret(session, CURSOR_SECRET)
    made_for = {"a": str(token.app_id)}  # this app's list only
    after: uuid.UUID | None = None
    if page.cursor is not None:
        try:
            after = _after(open_cursor(key, page.cursor, kind="app-schools", **made_for))
        except InvalidCursor:
            raise cursor_refused() from None
    result = await service.granted_schools(session, token.app_id, limit=page.limit, after=after)
    next_cursor = None
    if result.last is not None:
        next_cursor = seal_cursor(key, {"g": str(result.last)}, kind="app-schools", **made_for)
        next_url = request.url.include_query_params(limit=page.limit, cursor=next_cursor)
        response.headers["link"] = f'<{next_url}>; rel="next"'
    return GrantedSchoolList(
        schools=[GrantedSchoolOut.of(granted) for granted in result.schools], next_cursor=next_cursor
    )


@router.post(
    "/disconnect",
    summary="End this app's grant for the token's school",
    description=(
        "Needs a school token. Ends the grant at once: every access and refresh token of the grant stops "
        "working (this one included: calling again answers 401), and the school's authorisation log "
        "records `app.disconnected`. To come back, the app must ask the school again."
    ),
    status_code=204,
    response_class=Response,
    responses=problem_responses(
        {
            **_TOKEN_PROBLEMS,
            403: "An app-level token: this endpoint needs a school token (`insufficient_scope`)",
        }
    ),
)
async def disconnect(
    token: SchoolTokenDep,
    _query: Annotated[None, Depends(query_allowlist())],
    session: SessionDep,
) -> Response:
    await service.disconnect(session, token, now=utcnow())
    return Response(status_code=204)
