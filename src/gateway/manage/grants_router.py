"""`/manage/v1/grants`: the school lists, reads, narrows and revokes what its apps may see (SPEC §3.6).

Thin: parse, one service call (`consent.grants`), return a schema. A school API key, or an admin
session with `X-CSRF-Token` on POST. Another school's grant id answers 404, like an unknown one.
Narrow and revoke are POSTs to action URLs, not PATCH or DELETE: narrowing is a checked transition (only
ever smaller), and a revoked grant is not deleted — it stays readable, with `revoked_at` set.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Path, Query

from gateway.consent import choices, grants
from gateway.consent.grants import MAX_PAGE, GrantPosition, GrantView
from gateway.consent.repository import GrantState
from gateway.consent.rules import Narrowing
from gateway.db.base import utcnow
from gateway.db.session import SessionDep
from gateway.errors import InvalidInput, field_error, problem_responses
from gateway.http.cursors import CURSOR_SECRET, MAX_CURSOR_LENGTH, InvalidCursor, open_cursor, seal_cursor
from gateway.http.json_body import json_api_router
from gateway.http.query import query_allowlist
from gateway.keys.dependencies import KeyringDep
from gateway.manage.auth import PrincipalDep
from gateway.manage.grants_schemas import GrantList, GrantOut, NarrowIn, grant_out, summary_out

router = json_api_router(prefix="/manage/v1/grants", tags=["manage"])

_AUTH = {401: "Missing, wrong or revoked school API key, or no fully signed-in admin session"}
_CSRF = {403: "Session cookie without a matching `X-CSRF-Token` header"}
_MISSING = {404: "No grant with this id at the school (another school's grants are never found)"}
_ID = {422: "Malformed grant id"}
_ENDED = {409: "The grant is already revoked (`grant-revoked`), or changed meanwhile (`grant-changed`)"}


GrantId = Annotated[uuid.UUID, Path(description="The grant's id, as listed.")]


async def _out(view: GrantView, session: SessionDep, ring: KeyringDep) -> GrantOut:
    groups = view.audience.groups
    names = await choices.group_names(session, ring, view.grant.school_id) if groups else {}
    return grant_out(view, names)


def _position(sealed: dict[str, Any]) -> GrantPosition:
    """The last grant of the page before: its creation time and id."""
    created_at, grant_id = sealed.get("t"), sealed.get("i")
    if not isinstance(created_at, str) or not isinstance(grant_id, str):
        raise InvalidCursor
    try:
        return GrantPosition(datetime.fromisoformat(created_at), uuid.UUID(grant_id))
    except ValueError:
        raise InvalidCursor from None


@router.get(
    "",
    summary="List the school's grants (live ones unless asked)",
    response_model=GrantList,
    responses=problem_responses(
        {
            **_AUTH,
            400: "Unknown or repeated query parameter",
            422: "Unknown state, limit out of range or a cursor not from this list",
        }
    ),
)
async def list_grants(
    session: SessionDep,
    ring: KeyringDep,
    principal: PrincipalDep,
    _query: Annotated[None, Depends(query_allowlist("state", "limit", "cursor"))],
    state: Annotated[
        GrantState, Query(description="`live` (default), `revoked`, or `all` for the school's history.")
    ] = GrantState.LIVE,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Grants per page.")] = 100,
    cursor: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_CURSOR_LENGTH,
            description="`next_cursor` of the page before. Opaque and signed: a cursor is only valid for "
            "the school and `state` it was made for.",
        ),
    ] = None,
) -> GrantList:
    key = await ring.secret(session, CURSOR_SECRET)
    made_for = {"s": str(principal.school_id), "q": state.value}  # this school, this query
    after: GrantPosition | None = None
    if cursor is not None:
        try:
            after = _position(open_cursor(key, cursor, kind="grants", **made_for))
        except InvalidCursor:
            raise InvalidInput(
                "The cursor is not one this endpoint handed out.",
                errors=[field_error("not a cursor from this list", parameter="cursor")],
            ) from None
    page = await grants.list_grants(session, principal.school_id, state=state, limit=limit, after=after)
    next_cursor = None
    if page.last is not None:
        position = {"t": page.last.created_at.isoformat(), "i": str(page.last.grant_id)}
        next_cursor = seal_cursor(key, position, kind="grants", **made_for)
    return GrantList(grants=[summary_out(row) for row in page.grants], next_cursor=next_cursor)


@router.get(
    "/{grant_id}",
    summary="Read a grant: scopes, sensitive approvals, audience, tokens, last access",
    response_model=GrantOut,
    responses=problem_responses({**_AUTH, **_MISSING, **_ID}),
)
async def read_grant(
    grant_id: GrantId, session: SessionDep, ring: KeyringDep, principal: PrincipalDep
) -> GrantOut:
    view = await grants.read_grant(session, principal.school_id, grant_id, now=utcnow())
    return await _out(view, session, ring)


@router.post(
    "/{grant_id}/narrow",
    summary="Narrow a grant: drop optional scopes, shrink the audience (never widen)",
    description=(
        "Takes effect on the app's very next request, for tokens already issued. Sensitive approvals of "
        "removed scopes are dropped. Widening (adding scopes or groups, un-hiding pupils, going back to "
        "the whole school) is refused with 422 `narrowing-refused`: the app must ask again through "
        "consent. Recorded as `grant.narrowed` in the authorisation log."
    ),
    response_model=GrantOut,
    responses=problem_responses(
        {
            **_AUTH,
            **_CSRF,
            **_MISSING,
            **_ENDED,
            400: "Body is not JSON (`malformed-json`: not UTF-8, not JSON, or nested more than 64 deep)",
            415: "Body is not JSON",
            422: "Malformed body or id, or not a narrowing (`narrowing-refused`, each reason with a pointer)",
        }
    ),
)
async def narrow_grant(
    grant_id: GrantId, body: NarrowIn, session: SessionDep, ring: KeyringDep, principal: PrincipalDep
) -> GrantOut:
    view = await grants.narrow(
        session,
        ring,
        principal.school_id,
        grant_id,
        Narrowing(tuple(body.remove_scopes), body.audience_value()),
        actor=principal.actor,
        now=utcnow(),
    )
    return await _out(view, session, ring)


@router.post(
    "/{grant_id}/revoke",
    summary="Revoke a grant: every token of it stops working at once",
    description=(
        "Ends the grant and its refresh tokens; its access tokens are refused from the next request on. "
        "The app must go through consent again to reconnect. Recorded as `grant.revoked`. No body."
    ),
    response_model=GrantOut,
    responses=problem_responses(
        {
            **_AUTH,
            **_CSRF,
            **_MISSING,
            **_ID,
            409: "The grant is already revoked",
            415: "A request body that is not JSON (this call takes none)",
        }
    ),
)
async def revoke_grant(
    grant_id: GrantId, session: SessionDep, ring: KeyringDep, principal: PrincipalDep
) -> GrantOut:
    view = await grants.revoke(session, principal.school_id, grant_id, actor=principal.actor, now=utcnow())
    return await _out(view, session, ring)
