"""`GET /api/v1/app/receipts`: the signed consent receipts of every grant of the app (SPEC §3.6).

An app-level token (client_credentials): the app reads the receipts of all its grants, live or ended, and
only its own. Keyset pages in decision order with a signed cursor bound to the app. Registered after the
app API router (`app_api.router`), whose prefix it shares.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from gateway.consent import receipts
from gateway.consent.receipt_schemas import ReceiptList, ReceiptOut
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
from gateway.oauth.bearer import AppTokenDep

router = APIRouter(prefix="/api/v1/app", tags=["data"], route_class=RateLimitedRoute)


def _after(position: dict[str, Any]) -> tuple[datetime, uuid.UUID]:
    created_at, receipt_id = position.get("t"), position.get("i")
    if not isinstance(created_at, str) or not isinstance(receipt_id, str):
        raise InvalidCursor
    try:
        return datetime.fromisoformat(created_at), uuid.UUID(receipt_id)
    except ValueError:
        raise InvalidCursor from None


@router.get(
    "/receipts",
    summary="List the signed consent receipts of this app's grants",
    description=(
        "Needs an app-level token (client_credentials grant). One receipt per decision on any of the app's "
        "grants (approved, widened, narrowed, revoked, disconnected), oldest first, each a JWS signed with "
        "the gateway's key (`typ: consent-receipt+jwt`) beside its decoded claims; check one offline "
        "against `/.well-known/jwks.json`. Approvers appear only as opaque `admin:<id>`. Follow "
        '`next_cursor` (or the `Link: rel="next"` header) until it is null.'
    ),
    response_model=ReceiptList,
    responses=problem_responses(
        {
            400: "Unknown or repeated query parameter, a cursor this endpoint did not hand out, or an "
            "access token in the URL or body",
            401: "Missing, malformed, expired or revoked access token (`WWW-Authenticate: Bearer … "
            "invalid_token`)",
            403: "A school token: this endpoint needs an app-level token (`insufficient_scope`)",
            422: "`limit` outside 1 to 500, or an over-long cursor",
            429: "The token is over its rate limit (`RateLimit-Policy`): `Retry-After` says when to retry",
        }
    ),
)
async def list_receipts(
    token: AppTokenDep,
    _query: Annotated[None, Depends(query_allowlist("limit", "cursor"))],
    session: SessionDep,
    ring: KeyringDep,
    request: Request,
    response: Response,
    limit: Annotated[
        int, Query(ge=1, le=receipts.MAX_PAGE, description="Receipts per page.")
    ] = receipts.DEFAULT_PAGE,
    cursor: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_CURSOR_LENGTH,
            description="`next_cursor` of the previous page. Opaque and signed: only valid for this app.",
        ),
    ] = None,
) -> ReceiptList:
    key = await ring.secret(session, CURSOR_SECRET)
    made_for = {"a": str(token.app_id)}
    after: tuple[datetime, uuid.UUID] | None = None
    if cursor is not None:
        try:
            after = _after(open_cursor(key, cursor, kind="app-receipts", **made_for))
        except InvalidCursor:
            raise cursor_refused() from None
    page = await receipts.app_receipts(session, token.app_id, limit=limit, after=after)
    next_cursor = None
    if page.more:
        last = page.receipts[-1].row
        position = {"t": last.created_at.isoformat(), "i": str(last.id)}
        next_cursor = seal_cursor(key, position, kind="app-receipts", **made_for)
        response.headers["link"] = (
            f'<{request.url.include_query_params(limit=limit, cursor=next_cursor)}>; rel="next"'
        )
    return ReceiptList(receipts=[ReceiptOut.of(r) for r in page.receipts], next_cursor=next_cursor)
