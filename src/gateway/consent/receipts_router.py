"""`GET /manage/v1/grants/{id}/receipts`: a grant's signed consent receipts, for the school (SPEC §3.6).

A school API key or an admin session. Another school's grant id answers 404, like an unknown one.
Registered after the grants router (`manage.grants_router`), whose paths it extends.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path, Query

from gateway.consent import receipts
from gateway.consent.receipt_schemas import ReceiptList, ReceiptOut
from gateway.db.session import SessionDep
from gateway.errors import InvalidInput, field_error, problem_responses
from gateway.http.cursors import CURSOR_SECRET, MAX_CURSOR_LENGTH, InvalidCursor, open_cursor, seal_cursor
from gateway.http.json_body import json_api_router
from gateway.http.query import query_allowlist
from gateway.keys.dependencies import KeyringDep
from gateway.manage.auth import PrincipalDep

router = json_api_router(prefix="/manage/v1/grants", tags=["manage"])


@router.get(
    "/{grant_id}/receipts",
    summary="List a grant's signed consent receipts, oldest first",
    description=(
        "One receipt per decision on the grant (approved, widened, narrowed, revoked, disconnected), each a "
        "JWS signed with the gateway's key (`typ: consent-receipt+jwt`) beside its decoded claims. Each "
        "names the SHA-256 of the one before (`prev_hash`), so the chain shows none was dropped. Check one "
        "offline against `/.well-known/jwks.json` with `gateway receipts verify FILE`."
    ),
    response_model=ReceiptList,
    responses=problem_responses(
        {
            400: "Unknown or repeated query parameter",
            401: "Missing, wrong or revoked school API key, or no fully signed-in admin session",
            404: "No grant with this id at the school (another school's grants are never found)",
            422: "Malformed grant id, limit out of range or a cursor not from this list",
        }
    ),
)
async def list_grant_receipts(
    grant_id: Annotated[uuid.UUID, Path(description="The grant's id, as listed.")],
    session: SessionDep,
    ring: KeyringDep,
    principal: PrincipalDep,
    _query: Annotated[None, Depends(query_allowlist("limit", "cursor"))],
    limit: Annotated[int, Query(ge=1, le=receipts.MAX_PAGE, description="Receipts per page.")] = 100,
    cursor: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_CURSOR_LENGTH,
            description="`next_cursor` of the page before. Opaque and signed: only valid for this grant.",
        ),
    ] = None,
) -> ReceiptList:
    key = await ring.secret(session, CURSOR_SECRET)
    made_for = {"s": str(principal.school_id), "g": str(grant_id)}
    after_seq = 0
    if cursor is not None:
        try:
            seq = open_cursor(key, cursor, kind="grant-receipts", **made_for).get("n")
            if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
                raise InvalidCursor
            after_seq = seq
        except InvalidCursor:
            raise InvalidInput(
                "The cursor is not one this endpoint handed out.",
                errors=[field_error("not a cursor from this list", parameter="cursor")],
            ) from None
    page = await receipts.grant_receipts(
        session, principal.school_id, grant_id, limit=limit, after_seq=after_seq
    )
    next_cursor = None
    if page.more:
        next_cursor = seal_cursor(key, {"n": page.receipts[-1].row.seq}, kind="grant-receipts", **made_for)
    return ReceiptList(receipts=[ReceiptOut.of(r) for r in page.receipts], next_cursor=next_cursor)
