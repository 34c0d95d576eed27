"""`/manage/v1`: the school's API (SPEC §7), for its scripts (school API key) and its admins (session).

Thin: parse, one service call, return a schema. Authentication is `current_school_principal`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Response

from gateway.db.session import SessionDep
from gateway.errors import problem_responses
from gateway.http.json_body import json_api_router
from gateway.keys.dependencies import KeyringDep
from gateway.manage import api_keys
from gateway.manage.auth import PrincipalDep
from gateway.manage.schemas import ApiKeyCreated, ApiKeyIn, ApiKeyList, ApiKeyOut

router = json_api_router(prefix="/manage/v1", tags=["manage"])


_AUTH = {401: "Missing, wrong or revoked school API key, or no fully signed-in admin session"}
_CSRF = {403: "Session cookie without a matching `X-CSRF-Token` header (POST, PUT, PATCH, DELETE)"}


Prefix = Annotated[
    str,
    Path(pattern=r"^[A-Za-z0-9]{12}$", description="The key's prefix, as listed.", examples=["AbCdEfGh2345"]),
]


@router.post(
    "/api-keys",
    summary="Create a school API key (shown once)",
    status_code=201,
    response_model=ApiKeyCreated,
    responses=problem_responses(
        {
            **_AUTH,
            **_CSRF,
            400: "Body is not JSON (`malformed-json`: not UTF-8, not JSON, or nested more than 64 deep)",
            415: "Body is not JSON",
            422: "Invalid name: 1 to 80 characters, no control characters",
        }
    ),
)
async def create_api_key(
    body: ApiKeyIn, session: SessionDep, ring: KeyringDep, principal: PrincipalDep
) -> ApiKeyCreated:
    row, key = await api_keys.create_key(session, ring, principal, body.name)
    return ApiKeyCreated(key=key, prefix=row.prefix, name=row.name, created_at=row.created_at)


@router.get(
    "/api-keys",
    summary="List the school's API keys (never their secrets)",
    response_model=ApiKeyList,
    responses=problem_responses(_AUTH),
)
async def list_api_keys(session: SessionDep, principal: PrincipalDep) -> ApiKeyList:
    rows = await api_keys.list_keys(session, principal)
    return ApiKeyList(api_keys=[ApiKeyOut.model_validate(row) for row in rows])


@router.delete(
    "/api-keys/{prefix}",
    summary="Revoke a school API key",
    status_code=204,
    response_class=Response,
    responses=problem_responses(
        {**_AUTH, **_CSRF, 404: "No key with this prefix in the school", 422: "Malformed prefix"}
    ),
)
async def revoke_api_key(prefix: Prefix, session: SessionDep, principal: PrincipalDep) -> Response:
    await api_keys.revoke_key(session, principal, prefix)
    return Response(status_code=204)
