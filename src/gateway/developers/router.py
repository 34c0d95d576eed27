"""`/developer/v1`: the developer's API (SPEC §7). Thin: parse, one service call, return a schema.

Apps, secrets and webhooks will live here too; for now, who am I and key rotation.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from gateway.db.session import SessionDep
from gateway.developers import service
from gateway.developers.auth import DeveloperDep
from gateway.errors import PROBLEM_JSON
from gateway.http.json_body import json_api_router
from gateway.keys.dependencies import KeyringDep

router = json_api_router(prefix="/developer/v1", tags=["developer"])

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing, wrong or revoked developer key", "content": {PROBLEM_JSON: {}}}
}
_NO_BODY: dict[int | str, dict[str, Any]] = {
    415: {
        "description": "A request body that is not JSON (this call takes none)",
        "content": {PROBLEM_JSON: {}},
    }
}


class DeveloperOut(BaseModel):
    id: uuid.UUID
    name: str
    email: str
    key_prefix: str = Field(description="The prefix of the key this request presented.")


class KeyRotated(BaseModel):
    key: str = Field(description="The new key, `gw_dk_…`. Shown this once: store it before anything else.")
    prefix: str
    created_at: datetime
    revoked_prefix: str = Field(description="The key that made this request: it no longer works.")


@router.get(
    "/me", summary="The developer behind the presented key", response_model=DeveloperOut, responses=_PROBLEMS
)
async def me(caller: DeveloperDep) -> DeveloperOut:
    developer = caller.developer
    return DeveloperOut(
        id=developer.id, name=developer.name, email=developer.email, key_prefix=caller.key.prefix
    )


@router.post(
    "/keys/rotate",
    summary="Rotate the developer key: a new key (shown once); the presenting key stops working",
    description=(
        "Issues a new developer key and revokes the key that made this request, at once. Store the new key "
        "straight away: the old one is refused from now on, and the new one is never shown again."
    ),
    status_code=201,
    response_model=KeyRotated,
    responses={**_PROBLEMS, **_NO_BODY},
)
async def rotate(caller: DeveloperDep, session: SessionDep, ring: KeyringDep) -> KeyRotated:
    row, key = await service.rotate_key(session, ring, caller)
    return KeyRotated(key=key, prefix=row.prefix, created_at=row.created_at, revoked_prefix=caller.key.prefix)
