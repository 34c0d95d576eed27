"""`/connector/v1`: the MIS connector pushes records (SPEC §3.7, §7). Thin: parse, one service call."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Response, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gateway.connector import keys, service
from gateway.connector.schemas import BatchIn, BatchOut, StatusOut, SyncIn, SyncOut
from gateway.db.session import SessionDep
from gateway.errors import PROBLEM_JSON
from gateway.http.json_body import json_api_router
from gateway.keys.dependencies import KeyringDep
from gateway.mis.records import RECORD_MODELS
from gateway.mis.validation import MAX_BATCH_RECORDS
from gateway.schools.models import School

router = json_api_router(prefix="/connector/v1", tags=["connector"])

_TEXTS = {
    400: "Body is not JSON (`malformed-json`: not UTF-8, not JSON, or nested more than 64 deep), or a value "
    "holds a character that cannot be stored, such as NUL (`unstorable-value`); nothing was written",
    401: "Missing, wrong or revoked connector key",
    404: "Unknown resource or sync",
    409: "Idempotency-Key reused for a different batch, or sync already complete",
    413: f"More than {MAX_BATCH_RECORDS:,} records, or a body over the size limit",
    415: "Body is not JSON",
    422: "Invalid records: each listed by JSON pointer; nothing was written",
}


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"description": _TEXTS[status], "content": {PROBLEM_JSON: {}}} for status in statuses}


connector_key = HTTPBearer(
    auto_error=False,
    scheme_name="connectorKey",
    bearerFormat="gw_ck_…",
    description="A school's connector key, from `gateway connector create-key`.",
)


async def connector_school(
    session: SessionDep,
    ring: KeyringDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(connector_key)],
) -> School:
    key = await keys.authenticate(session, ring, f"Bearer {credentials.credentials}" if credentials else None)
    school = await session.get(School, key.school_id)
    assert school is not None  # keys cascade with their school
    return school


SchoolDep = Annotated[School, Depends(connector_school)]


def today() -> date:
    return datetime.now(UTC).date()


@router.post(
    "/{resource}/batch",
    summary="Upsert and delete records of one resource, atomically",
    response_model=BatchOut,
    responses=_problems(400, 401, 404, 409, 413, 415, 422),
)
async def post_batch(
    resource: Annotated[
        str,
        Path(description="Which records the batch holds.", json_schema_extra={"enum": sorted(RECORD_MODELS)}),
    ],
    body: BatchIn,
    response: Response,
    session: SessionDep,
    ring: KeyringDep,
    school: SchoolDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=128,
            pattern=r"^[\x21-\x7e]+$",
            description="Retrying with the same key and body changes nothing and returns the first answer.",
        ),
    ] = None,
) -> dict[str, Any]:
    result, replayed = await service.receive_batch(
        session,
        ring,
        school,
        resource,
        upserts=body.upsert,
        deletes=body.delete,
        sync_id=body.sync_id,
        idempotency_key=idempotency_key,
        today=today(),
    )
    if replayed:
        response.headers["idempotent-replayed"] = "true"
    return result


@router.post(
    "/syncs",
    summary="Start a full sync",
    status_code=201,
    response_model=SyncOut,
    responses=_problems(400, 401, 404, 415, 422),
)
async def start_sync(body: SyncIn, session: SessionDep, school: SchoolDep) -> dict[str, Any]:
    return service.sync_view(await service.start_sync(session, school, body.resources))


@router.post(
    "/syncs/{sync_id}/complete",
    summary="Complete a full sync: records it did not send are deleted",
    response_model=SyncOut,
    responses=_problems(401, 404, 409, 415, 422),
)
async def complete_sync(sync_id: uuid.UUID, session: SessionDep, school: SchoolDep) -> dict[str, Any]:
    return service.sync_view(await service.complete_sync(session, school, sync_id))


@router.get(
    "/status",
    summary="Last sync and record counts per resource",
    response_model=StatusOut,
    responses=_problems(401),
)
async def status(session: SessionDep, school: SchoolDep) -> dict[str, Any]:
    return await service.sync_status(session, school)
