"""`/healthz`, `/readyz` and `/metrics` (behind a bearer token when `GATEWAY_METRICS_TOKEN` is set)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, SecretStr

from gateway.errors import ServiceUnavailable, Unauthorized
from gateway.health.checks import check_readiness

router = APIRouter(tags=["operations"])


class Status(BaseModel):
    status: str


_ALIVE = b'{"status":"ok"}'


@router.get("/healthz", summary="Liveness: the process is up", response_model=Status)
async def healthz() -> Response:
    # The same body `Status(status="ok")` would give, made once: liveness probes are frequent.
    return Response(_ALIVE, media_type="application/json")


@router.get(
    "/readyz",
    summary="Readiness: not shutting down, and the database is reachable and migrated to head",
    response_model=Status,
    responses={503: {"description": "Not ready", "content": {"application/problem+json": {}}}},
)
async def readyz(request: Request) -> Status:
    state = request.app.state
    if state.shutdown.draining:  # first, and without the database: a load balancer must see it at once
        raise ServiceUnavailable("The server is shutting down.", headers={"retry-after": "5"})
    readiness = await check_readiness(
        state.database.engine, state.head_revision, state.settings.db_connect_timeout_seconds
    )
    if not readiness.ready:
        raise ServiceUnavailable(readiness.reason, headers={"retry-after": "5"})
    return Status(status="ready")


def _bearer_credentials(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


def require_metrics_token(request: Request) -> None:
    """With `GATEWAY_METRICS_TOKEN` set, only `Authorization: Bearer <that token>` (constant-time compare)."""
    expected: SecretStr | None = request.app.state.settings.metrics_token
    if expected is None:
        return
    presented = _bearer_credentials(request)
    if presented is None or not hmac.compare_digest(presented.encode(), expected.get_secret_value().encode()):
        raise Unauthorized(
            "Send the metrics token as `Authorization: Bearer <token>`.",
            headers={"www-authenticate": 'Bearer realm="metrics"'},
        )


@router.get("/metrics", summary="Prometheus metrics", response_class=Response, include_in_schema=False)
async def metrics(request: Request) -> Response:
    require_metrics_token(request)
    await request.app.state.metrics.refresh()
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
