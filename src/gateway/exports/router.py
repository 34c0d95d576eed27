"""`/manage/v1/exports`: the school takes a complete copy of its data (SPEC §3.8; issue 15, item 5).

Thin: parse, one service call (`service`, `download`), return a schema. A school API key, or an admin
session with `X-CSRF-Token` on POST. Another school's export id answers 404, like an unknown one.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Final

from fastapi import Depends, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from gateway.db.base import utcnow
from gateway.db.session import Database, SessionDep
from gateway.errors import problem_responses
from gateway.exports import download, service
from gateway.exports.schemas import ExportList, ExportOut
from gateway.http.json_body import json_api_router
from gateway.http.query import query_allowlist
from gateway.keys.dependencies import KeyringDep
from gateway.manage.auth import PrincipalDep

router = json_api_router(prefix="/manage/v1/exports", tags=["manage"])

ZIP: Final = "application/zip"
_AUTH = {401: "Missing, wrong or revoked school API key, or no fully signed-in admin session"}
_CSRF = {403: "Session cookie without a matching `X-CSRF-Token` header"}
_QUERY = {400: "An unknown or repeated query parameter"}
_MISSING = {404: "No export with this id at the school (another school's exports are never found)"}
_ID = {422: "Malformed export id (not a UUID)"}

ExportId = Annotated[uuid.UUID, Path(description="The export's id, as started or listed.")]


@router.post(
    "",
    summary="Start an export of the school's data",
    description=(
        "Queues a complete copy of the school's data as one zip: every live MIS record (JSON Lines and "
        "CSV per resource), the grants, the signed consent receipts, the data-access records and the "
        "authorisation log with its signed checkpoint, and `manifest.json` with each file's SHA-256 and "
        "size. Answers at once; follow `Location` until `state` is `ready`, then download it, once, "
        "within 24 hours. One export per school at a time."
    ),
    status_code=202,
    response_model=ExportOut,
    responses=problem_responses(
        {
            **_QUERY,
            **_AUTH,
            **_CSRF,
            409: "An export of the school is already queued or running",
            415: "A body that is not JSON (this call takes none)",
        }
    ),
)
async def start_export(
    principal: PrincipalDep,
    _query: Annotated[None, Depends(query_allowlist())],
    session: SessionDep,
    response: Response,
) -> ExportOut:
    now = utcnow()
    row = await service.start_export(session, principal.school_id, actor=principal.actor, now=now)
    response.headers["location"] = f"/manage/v1/exports/{row.id}"
    return ExportOut.of(row, now)


@router.get(
    "",
    summary="The school's exports, newest first",
    response_model=ExportList,
    responses=problem_responses({**_QUERY, **_AUTH, 422: "`limit` outside 1 to 100"}),
)
async def list_exports(
    principal: PrincipalDep,
    _query: Annotated[None, Depends(query_allowlist("limit"))],
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LISTED, description="How many, newest first.")] = 20,
) -> ExportList:
    now = utcnow()
    rows = await service.list_exports(session, principal.school_id, limit=limit)
    return ExportList(exports=[ExportOut.of(row, now) for row in rows])


@router.get(
    "/{export_id}",
    summary="One export: its state, progress and, once ready, size and SHA-256",
    response_model=ExportOut,
    responses=problem_responses({**_QUERY, **_AUTH, **_MISSING, **_ID}),
)
async def read_export(
    export_id: ExportId,
    principal: PrincipalDep,
    _query: Annotated[None, Depends(query_allowlist())],
    session: SessionDep,
) -> ExportOut:
    return ExportOut.of(await service.find_export(session, principal.school_id, export_id), utcnow())


@router.get(
    "/{export_id}/download",
    summary="Download a ready export (once)",
    description=(
        "Streams the zip (`Content-Length` and the `sha256` of the export say what to expect). It can be "
        "downloaded once: the second time, or 24 hours after it became ready, it is gone (410). The "
        "download is recorded as an `export.downloaded` event. If the stored copy does not open (it was "
        "altered), the stream stops before its end and the export becomes `failed`."
    ),
    response_class=StreamingResponse,
    responses={
        200: {"description": "The zip", "content": {ZIP: {"schema": {"type": "string", "format": "binary"}}}},
        **problem_responses(
            {
                **_QUERY,
                **_AUTH,
                **_MISSING,
                409: "The export is not ready: still queued or running, or failed",
                410: "Already downloaded, or expired (24 hours after it was ready)",
                **_ID,
            }
        ),
    },
)
async def download_export(
    export_id: ExportId,
    principal: PrincipalDep,
    _query: Annotated[None, Depends(query_allowlist())],
    session: SessionDep,
    ring: KeyringDep,
    request: Request,
) -> StreamingResponse:
    handout = await download.hand_out(
        session, principal.school_id, export_id, actor=principal.actor, now=utcnow()
    )
    database: Database = request.app.state.database
    return StreamingResponse(
        download.stream(database.sessionmaker, ring, handout),
        media_type=ZIP,
        headers={
            "content-disposition": f'attachment; filename="{handout.filename}"',
            "content-length": str(handout.size),
            "cache-control": "no-store",
        },
    )
