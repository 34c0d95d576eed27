"""`/api/v1/…`: the school's MIS records for an app holding a school access token (SPEC §3.5, §7).

Thin: check the token (`SchoolTokenDep`: signature, claims, then the live grant, every request), refuse
unknown query parameters, one service call, then bytes out. The token is checked before anything else,
so a bad token is 401 whatever else is wrong with the request.

No `from __future__ import annotations` here: the endpoints are made in loops, and FastAPI must see
their annotations (which name closure variables) as objects, not strings.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Final

import orjson
from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from gateway.data_api import changes, schemas, service
from gateway.data_api.projection import RESOURCES, Resource
from gateway.data_api.service import DEFAULT_LIMIT, MAX_LIMIT, Access, NotModified
from gateway.db.base import utcnow
from gateway.db.session import SessionDep, one_statement_writes
from gateway.errors import problem_responses
from gateway.http.api_limits import RateLimitedRoute
from gateway.http.cursors import MAX_CURSOR_LENGTH
from gateway.http.query import DateTimeText, query_allowlist
from gateway.keys.dependencies import KeyringDep
from gateway.oauth.bearer import SchoolTokenDep
from gateway.observability.request_id import current_request_id
from gateway.scopes import CATALOGUE, sort_scopes

# RateLimitedRoute: the endpoints build their own Responses; it adds the RateLimit header fields.
router = APIRouter(prefix="/api/v1", tags=["data"], route_class=RateLimitedRoute)


JSON: Final = "application/json"
_CACHE_HEADERS: Final = {"cache-control": "private, no-cache", "vary": "Authorization"}

Limit = Annotated[
    int,
    Query(ge=1, le=MAX_LIMIT, description=f"Records per page: 1 to {MAX_LIMIT:,} (default {DEFAULT_LIMIT})."),
]
Cursor = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=MAX_CURSOR_LENGTH,
        description='`next_cursor` of the previous page (or the `Link: rel="next"` URL). Opaque and '
        "signed: a cursor is only valid for the endpoint, query, school and grant it was made for.",
    ),
]
UpdatedSince = Annotated[
    DateTimeText | None,
    Query(
        description="ISO 8601 date-time (UTC when no offset is given): only records the gateway received "
        "from the MIS at or after this time. Keep the same value while following cursors."
    ),
]
IfNoneMatch = Annotated[
    str | None,
    Header(
        description="An `ETag` from an earlier answer: 304 Not Modified, with no body, while nothing the "
        "answer depends on changed (the school's data, the grant, the token's scopes)."
    ),
]
RecordIdPath = Annotated[
    str, Path(max_length=64, pattern=r"^[A-Za-z0-9._:-]+$", description="The record's id, as listed.")
]


_COMMON = {
    400: "Unknown or repeated query parameter, a cursor this endpoint did not hand out, or an access "
    "token in the URL or body",
    401: "Missing, malformed, expired or revoked access token, or a revoked grant "
    "(`WWW-Authenticate: Bearer … invalid_token`)",
    403: "The grant's scopes unlock no field of this resource (`insufficient_scope`), or an app-level token",
    429: "The token is over its rate limit (`RateLimit-Policy`, 600 requests in 5 minutes by default): "
    "`Retry-After` says when to try again. Every answer to a counted request carries `RateLimit-Policy` "
    "and `RateLimit` (draft-ietf-httpapi-ratelimit-headers)",
}
_NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the `If-None-Match` ETag is current. No body."}
}


def _access(token: Any) -> Access:
    return Access.of(token, utcnow().date())


def _since(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _json(body: Any, *, etag: str | None = None, link: str | None = None) -> Response:
    headers = dict(_CACHE_HEADERS)
    if etag is not None:
        headers["etag"] = etag
    if link is not None:
        headers["link"] = link
    return Response(content=orjson.dumps(body), media_type=JSON, headers=headers)


def _not_modified(etag: str) -> Response:
    return Response(status_code=304, headers={**_CACHE_HEADERS, "etag": etag})


def _scopes_of(resource: str) -> str:
    names = sort_scopes(name for name, scope in CATALOGUE.items() if resource in scope.fields)
    return ", ".join(f"`{name}`" + (" (sensitive)" if CATALOGUE[name].sensitive else "") for name in names)


_AUDIENCE_NOTES = {
    "students": "Only pupils in the grant's audience: the granted groups (or the whole school), minus "
    "excluded pupils, and leavers only when they left during the current academic year.",
    "per_student": "Only records of pupils in the grant's audience (see `/students`).",
    "contacts": "Only contacts linked to at least one pupil in the grant's audience.",
    "groups": "Every group; `student_ids` lists only pupils in the grant's audience.",
    "staff": "Staff who left before the current academic year are not listed.",
    "school": "The school's own records: every app connected to the school may read them.",
}


def _describe(resource: Resource) -> str:
    return (
        f"{_AUDIENCE_NOTES[resource.kind.value]}\n\nFields: each is sent only when one of the token's "
        f"effective scopes (the token's scopes ∩ the grant's current scopes, with implied `.basic` "
        f"scopes) unlocks it; the schema names the scope of each. Scopes that unlock fields here: "
        f"{_scopes_of(resource.name)}.\n\nEvery answer with records is written to the school's "
        "data-access log (fields and counts, never contents)."
    )


def _add_listing(resource: Resource) -> None:
    allowlist = query_allowlist("limit", "cursor", "updated_since")

    @one_statement_writes  # reads, then the data-access record: one statement
    async def list_endpoint(
        token: SchoolTokenDep,
        _query: Annotated[None, Depends(allowlist)],
        session: SessionDep,
        ring: KeyringDep,
        request: Request,
        if_none_match: IfNoneMatch = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
        updated_since: UpdatedSince = None,
    ) -> Response:
        try:
            page = await service.list_records(
                session,
                ring,
                _access(token),
                resource.name,
                limit=limit,
                cursor=cursor,
                updated_since=_since(updated_since),
                if_none_match=if_none_match,
                request_id=current_request_id(),
            )
        except NotModified as exc:
            return _not_modified(exc.etag)
        link = None
        if page.next_cursor is not None:
            link = f'<{request.url.include_query_params(cursor=page.next_cursor)}>; rel="next"'
        return _json({"data": page.records, "next_cursor": page.next_cursor}, etag=page.etag, link=link)

    router.add_api_route(
        resource.path,
        list_endpoint,
        methods=["GET"],
        name=f"list_{resource.name}",
        summary=f"List {resource.title.lower()}",
        description=(
            f"{_describe(resource)}\n\nPages are in `id` order, at most `limit` records each; follow "
            '`next_cursor` (or the `Link: rel="next"` header) until it is null. Records changed while you '
            "page are never repeated or skipped (keyset pagination). For an exact copy kept up to date, "
            "use `/api/v1/changes`."
        ),
        response_class=Response,
        responses={
            200: {
                "description": "A page of records",
                "content": {JSON: {"schema": schemas.list_schema(resource.name)}},
                "headers": {
                    "ETag": {"schema": {"type": "string"}},
                    "Link": {"schema": {"type": "string"}, "description": 'rel="next" when there is more'},
                },
            },
            **_NOT_MODIFIED,
            **problem_responses(
                {**_COMMON, 422: f"`limit` outside 1 to {MAX_LIMIT:,}, or a malformed `updated_since`"}
            ),
        },
    )


def _add_single(resource: Resource) -> None:
    @one_statement_writes  # reads, then the data-access record: one statement
    async def read_endpoint(
        token: SchoolTokenDep,
        _query: Annotated[None, Depends(query_allowlist())],
        session: SessionDep,
        ring: KeyringDep,
        record_id: RecordIdPath,
        if_none_match: IfNoneMatch = None,
    ) -> Response:
        return await _read(session, ring, token, resource, record_id, if_none_match)

    router.add_api_route(
        f"{resource.path}/{{record_id}}",
        read_endpoint,
        methods=["GET"],
        name=f"read_{resource.name}",
        summary=f"Read one of the {resource.title.lower()}",
        description=f"{_describe(resource)}\n\nA record that does not exist, belongs to another school or "
        "is outside the grant's audience is 404: the answer does not tell which.",
        response_class=Response,
        responses={
            200: {
                "description": "The record",
                "content": {JSON: {"schema": schemas.record_schema(resource.name)}},
            },
            **_NOT_MODIFIED,
            **problem_responses({**_COMMON, 404: "No such record visible to this app", 422: "Malformed id"}),
        },
    )


async def _read(
    session: SessionDep,
    ring: KeyringDep,
    token: Any,
    resource: Resource,
    record_id: str | None,
    if_none_match: str | None,
) -> Response:
    try:
        record, etag = await service.read_record(
            session,
            ring,
            _access(token),
            resource.name,
            record_id,
            if_none_match=if_none_match,
            request_id=current_request_id(),
        )
    except NotModified as exc:
        return _not_modified(exc.etag)
    return _json(record, etag=etag)


@router.get(
    "/school",
    summary="Read the school",
    description=f"{_describe(RESOURCES['school'])}\n\nThe school as its MIS describes it. 404 until the "
    "school's MIS has sent it. Academic years and subjects are at `/api/v1/school/academic-years` and "
    "`/api/v1/school/subjects`.",
    response_class=Response,
    responses={
        200: {"description": "The school", "content": {JSON: {"schema": schemas.record_schema("school")}}},
        **_NOT_MODIFIED,
        **problem_responses({**_COMMON, 404: "The school's MIS has not sent the school's details yet"}),
    },
)
@one_statement_writes  # reads, then the data-access record: one statement
async def read_school(
    token: SchoolTokenDep,
    _query: Annotated[None, Depends(query_allowlist())],
    session: SessionDep,
    ring: KeyringDep,
    if_none_match: IfNoneMatch = None,
) -> Response:
    return await _read(session, ring, token, RESOURCES["school"], None, if_none_match)


for _resource in RESOURCES.values():
    if _resource.name != "school":
        _add_listing(_resource)
for _resource in RESOURCES.values():
    if _resource.name != "school":
        _add_single(_resource)


@router.get(
    "/changes",
    summary="Changes feed: keep an exact copy of what this app may see",
    description=(changes.__doc__ or "").split("\n\n", 1)[1]
    + "\n\nEvery answer is written to the school's data-access log, one row per resource it carries.",
    response_model=schemas.ChangesPage,
    response_class=Response,
    responses=problem_responses({**_COMMON, 422: f"`limit` outside 1 to {MAX_LIMIT:,}"}),
)
async def read_changes(
    token: SchoolTokenDep,
    _query: Annotated[None, Depends(query_allowlist("cursor", "limit"))],
    session: SessionDep,
    ring: KeyringDep,
    limit: Annotated[
        int,
        Query(
            ge=1,
            le=MAX_LIMIT,
            description=f"At most this many changed rows (default {DEFAULT_LIMIT}); an audience change "
            "adds its reconciliation events on top.",
        ),
    ] = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    feed = await changes.read_changes(
        session, ring, _access(token), cursor=cursor, limit=limit, request_id=current_request_id()
    )
    body = {"changes": feed.events, "next_cursor": feed.next_cursor, "has_more": feed.has_more}
    return Response(content=orjson.dumps(body), media_type=JSON, headers=dict(_CACHE_HEADERS))
