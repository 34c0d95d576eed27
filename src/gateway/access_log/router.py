"""`GET /manage/v1/access-log`: which apps received which fields of the school's data, and when (SPEC §3.5).

School API key or admin session (`current_school_principal`); only the principal's school is ever read.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from gateway.access_log import service
from gateway.db.session import SessionDep
from gateway.errors import PROBLEM_JSON
from gateway.http.cursors import (
    CURSOR_SECRET,
    MAX_CURSOR_LENGTH,
    InvalidCursor,
    cursor_refused,
    open_cursor,
    seal_cursor,
)
from gateway.http.query import DateTimeText, query_allowlist
from gateway.keys.dependencies import KeyringDep
from gateway.manage.auth import PrincipalDep

router = APIRouter(prefix="/manage/v1", tags=["manage"])

DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 1000


class AccessLogEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="Increasing with time; entries are listed newest first.")
    occurred_at: datetime
    client_id: str = Field(description="The app's OAuth client id.")
    app_id: uuid.UUID
    grant_id: uuid.UUID
    resource: str = Field(
        description="The data API resource, e.g. `students` (or `changes` for an empty feed page)."
    )
    fields: list[str] = Field(description="The field names sent, sorted. Never any value.")
    record_count: int = Field(description="How many records (or tombstones) were sent.")
    request_id: str | None = Field(description="The request's `X-Request-ID`, to match the app's own logs.")


class AccessLogPage(BaseModel):
    entries: list[AccessLogEntry]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for older entries; null when none are left."
    )


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _before(position: dict[str, Any]) -> int:
    """The id of the last entry of the page before."""
    before = position.get("b")
    if not isinstance(before, int):
        raise InvalidCursor
    return before


@router.get(
    "/access-log",
    summary="The data-access log: which apps received which fields, when",
    description=(
        "One entry per data API answer that sent records (per resource for the changes feed): the app, the "
        "grant, the resource, the exact field names sent and how many records, never their contents. "
        "Newest first; filter by app (`client_id`), `grant_id`, `resource` and a time window "
        "(`since` inclusive, `until` exclusive, ISO 8601, UTC when no offset is given)."
    ),
    response_model=AccessLogPage,
    responses={
        status: {"description": text, "content": {PROBLEM_JSON: {}}}
        for status, text in {
            400: "Unknown or repeated query parameter, a cursor this endpoint did not hand out, or a filter "
            "holding a character that cannot be stored, such as NUL (`unstorable-value`)",
            401: "Missing, wrong or revoked school API key, or no fully signed-in admin session",
            422: "Malformed filter value, or `limit` outside 1 to 1,000",
        }.items()
    },
)
async def list_access_log(
    principal: PrincipalDep,
    _query: Annotated[
        None,
        Depends(query_allowlist("client_id", "grant_id", "resource", "since", "until", "limit", "cursor")),
    ],
    session: SessionDep,
    ring: KeyringDep,
    request: Request,
    response: Response,
    client_id: Annotated[str | None, Query(max_length=32, description="Only this app.")] = None,
    grant_id: Annotated[uuid.UUID | None, Query(description="Only this grant.")] = None,
    resource: Annotated[str | None, Query(max_length=40, description="Only this resource.")] = None,
    since: Annotated[DateTimeText | None, Query(description="At or after this time.")] = None,
    until: Annotated[DateTimeText | None, Query(description="Before this time.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Entries per page.")] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(min_length=1, max_length=MAX_CURSOR_LENGTH, description="`next_cursor`.")
    ] = None,
) -> AccessLogPage:
    where = service.AccessFilter(client_id, grant_id, resource, _utc(since), _utc(until))
    key = await ring.secret(session, CURSOR_SECRET)
    made_for = {"s": str(principal.school_id), "q": repr(where)}  # this school, this query
    before: int | None = None
    if cursor is not None:
        try:
            before = _before(open_cursor(key, cursor, kind="access-log", **made_for))
        except InvalidCursor:
            raise cursor_refused(" for this query") from None
    rows = await service.entries(session, principal.school_id, where, before_id=before, limit=limit + 1)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = seal_cursor(key, {"b": rows[-1].id}, kind="access-log", **made_for)
        response.headers["link"] = f'<{request.url.include_query_params(cursor=next_cursor)}>; rel="next"'
    return AccessLogPage(
        entries=[
            AccessLogEntry(
                id=row.id,
                occurred_at=row.occurred_at,
                client_id=row.client_id,
                app_id=row.app_id,
                grant_id=row.grant_id,
                resource=row.resource,
                fields=row.fields.split(),
                record_count=row.record_count,
                request_id=row.request_id,
            )
            for row in rows
        ],
        next_cursor=next_cursor,
    )
