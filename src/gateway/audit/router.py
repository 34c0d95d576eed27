"""`GET /manage/v1/audit-log` (+ `/export`): the school reads and exports its own authorisation log (SPEC §4).

School API key or admin session (`current_school_principal`); only the principal's school's chain is ever
read, and a page cursor is bound to that school and to the query it was made for.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from gateway.audit.checkpoints import head_checkpoint
from gateway.audit.events import EventType
from gateway.audit.export_file import export_lines
from gateway.audit.models import AuditEvent
from gateway.audit.service import EventFilter, find_events, record_event
from gateway.db.base import utcnow
from gateway.db.session import Database, SessionDep
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
from gateway.keys.signing import active_signing_key as active_key
from gateway.manage.auth import PrincipalDep

router = APIRouter(prefix="/manage/v1", tags=["manage"])

DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 1000
CURSOR_KIND: Final = "audit-log"
JSON_LINES: Final = "application/jsonl"

_AUTH_FAILED = "Missing, wrong or revoked school API key, or no fully signed-in admin session"


class AuditLogEvent(BaseModel):
    seq: int = Field(description="The event's place in the school's chain: 1, 2, 3 … with no gaps.")
    id: uuid.UUID
    event_type: EventType = Field(description="What happened (`subject.verb`).")
    actor: str = Field(
        description="Who acted, as stored: `operator`, `system` or `kind:id` (an admin's id, an API key's "
        "prefix, an app's client id …), never a name or an email address."
    )
    occurred_at: datetime = Field(description="When, in UTC (ISO 8601).")
    details: dict[str, Any] = Field(description="Ids, counts and scope names; never personal data.")
    prev_hash: str = Field(description="`hash` of the event at `seq - 1` (64 zeros for the first event).")
    hash: str = Field(
        description="Hex SHA-256 over `prev_hash` and the canonical JSON of every other stored field "
        "(`details` as its stored canonical text); see the README's authorisation log section."
    )


class AuditLogPage(BaseModel):
    events: list[AuditLogEvent]
    next_cursor: str | None = Field(description="Pass as `cursor` for older events; null when none are left.")


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _before(position: dict[str, Any]) -> int:
    """The seq of the last event of the page before."""
    before = position.get("b")
    if not isinstance(before, int) or isinstance(before, bool):
        raise InvalidCursor
    return before


def as_listed(row: AuditEvent) -> AuditLogEvent:
    return AuditLogEvent(
        seq=row.seq,
        id=row.id,
        event_type=EventType(row.event_type),
        actor=row.actor,
        occurred_at=row.occurred_at.astimezone(UTC),
        details=json.loads(row.details),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


@router.get(
    "/audit-log",
    summary="The school's authorisation log, with its hash chain",
    description=(
        "Every recorded decision and action for this school (consents, narrowings, revocations, sign-ins, "
        "key changes, exports …), newest first, each with its chain fields `seq`, `prev_hash` and `hash`. "
        "Filter by `event_type`, `app_id` (events whose details name that app), `actor` (exactly as stored, "
        "e.g. `admin:<id>`, `api_key:<prefix>`, `app:<client_id>`) and a time window (`since` inclusive, "
        "`until` exclusive, ISO 8601, UTC when no offset is given). Pages follow `next_cursor` (also in a "
        '`Link: rel="next"` header); a cursor works only for the school and the filters it was made for. '
        "For a complete copy that can be checked offline, use `GET /manage/v1/audit-log/export`."
    ),
    response_model=AuditLogPage,
    responses={
        status: {"description": text, "content": {PROBLEM_JSON: {}}}
        for status, text in {
            400: "Unknown or repeated query parameter, a cursor this endpoint did not hand out for this "
            "school and query, or a filter holding a character that cannot be stored, such as NUL",
            401: _AUTH_FAILED,
            422: "Unknown event type, malformed `app_id` or time, or `limit` outside 1 to 1,000",
        }.items()
    },
)
async def list_audit_log(
    principal: PrincipalDep,
    _query: Annotated[
        None,
        Depends(query_allowlist("event_type", "app_id", "actor", "since", "until", "limit", "cursor")),
    ],
    session: SessionDep,
    ring: KeyringDep,
    request: Request,
    response: Response,
    event_type: Annotated[EventType | None, Query(description="Only events of this type.")] = None,
    app_id: Annotated[uuid.UUID | None, Query(description="Only events naming this app.")] = None,
    actor: Annotated[
        str | None, Query(min_length=1, max_length=80, description="Only events by this actor.")
    ] = None,
    since: Annotated[DateTimeText | None, Query(description="At or after this time.")] = None,
    until: Annotated[DateTimeText | None, Query(description="Before this time.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Events per page.")] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(min_length=1, max_length=MAX_CURSOR_LENGTH, description="`next_cursor`.")
    ] = None,
) -> AuditLogPage:
    where = EventFilter(event_type, app_id, actor, _utc(since), _utc(until))
    key = await ring.secret(session, CURSOR_SECRET)
    made_for = {"s": str(principal.school_id), "q": repr(where)}  # this school, this query
    before: int | None = None
    if cursor is not None:
        try:
            before = _before(open_cursor(key, cursor, kind=CURSOR_KIND, **made_for))
        except InvalidCursor:
            raise cursor_refused(" for this school and query") from None
    rows = await find_events(session, principal.school_id, where, before_seq=before, limit=limit + 1)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = seal_cursor(key, {"b": rows[-1].seq}, kind=CURSOR_KIND, **made_for)
        response.headers["link"] = f'<{request.url.include_query_params(cursor=next_cursor)}>; rel="next"'
    return AuditLogPage(events=[as_listed(row) for row in rows], next_cursor=next_cursor)


async def _export_lines(
    database: Database, school_id: uuid.UUID, through_seq: int, checkpoint: str
) -> AsyncIterator[bytes]:
    """`export_file.export_lines` in a session of its own (the request's session has committed the
    export's event by the time the body is sent)."""
    async with database.sessionmaker() as session:
        async for line in export_lines(session, school_id, through_seq, checkpoint):
            yield line


@router.get(
    "/audit-log/export",
    summary="The whole authorisation log as JSON Lines, ending with a signed checkpoint",
    description=(
        "Streams every event of the school's chain, oldest first, one JSON object per line with exactly the "
        "fields its hash covers (`id`, `school_id`, `seq`, `event_type`, `actor`, `occurred_at`, `details` "
        "as its stored canonical JSON text) and `prev_hash`, `hash`; the last line is "
        '`{"checkpoint": "<JWS>"}`, an ES256 JWS (`typ: audit-checkpoint+jwt`, `kid` of a key in '
        "`/.well-known/jwks.json`) over `school_id`, the last `seq`, its `hash`, `iss` and `iat`. The "
        "export is itself recorded first, as an `audit.exported` event, so it is the last event line and "
        "the checkpoint covers it. Keep the file with a copy of the JWKS taken at the same time: "
        "`gateway audit verify --file EXPORT.jsonl --jwks jwks.json` then shows offline that no line was "
        "altered, removed, reordered or added."
    ),
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "JSON Lines: the events, then the checkpoint line",
            "content": {JSON_LINES: {"schema": {"type": "string"}}},
        },
        **{
            status: {"description": text, "content": {PROBLEM_JSON: {}}}
            for status, text in {
                400: "A query parameter (this endpoint takes none)",
                401: _AUTH_FAILED,
            }.items()
        },
    },
)
async def export_audit_log(
    principal: PrincipalDep,
    _query: Annotated[None, Depends(query_allowlist())],
    session: SessionDep,
    ring: KeyringDep,
    request: Request,
) -> StreamingResponse:
    event = await record_event(
        session,
        school_id=principal.school_id,
        event_type=EventType.AUDIT_EXPORTED,
        actor=principal.actor,
        details={"format": "jsonl"},
    )
    key = await active_key(session, ring.master_key)
    seq, _head, checkpoint = await head_checkpoint(
        session, key, issuer=request.app.state.settings.issuer, school_id=principal.school_id, now=utcnow()
    )
    assert seq == event.seq, "the school's row is locked until commit: nothing can follow the export"
    filename = f"audit-log-{principal.school_id}-{seq}.jsonl"
    return StreamingResponse(
        _export_lines(request.app.state.database, principal.school_id, seq, checkpoint),
        media_type=JSON_LINES,
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )
