"""`/healthz`, `/readyz` and `/metrics`."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from gateway.errors import ServiceUnavailable
from gateway.health.checks import check_readiness

router = APIRouter(tags=["operations"])


class Status(BaseModel):
    status: str


@router.get("/healthz", summary="Liveness: the process is up", response_model=Status)
async def healthz() -> Status:
    return Status(status="ok")


@router.get(
    "/readyz",
    summary="Readiness: the database is reachable and migrated to head",
    response_model=Status,
    responses={503: {"description": "Not ready", "content": {"application/problem+json": {}}}},
)
async def readyz(request: Request) -> Status:
    state = request.app.state
    readiness = await check_readiness(
        state.database.engine, state.head_revision, state.settings.db_connect_timeout_seconds
    )
    if not readiness.ready:
        raise ServiceUnavailable(readiness.reason, headers={"retry-after": "5"})
    return Status(status="ready")


@router.get("/metrics", summary="Prometheus metrics", response_class=Response, include_in_schema=False)
async def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
