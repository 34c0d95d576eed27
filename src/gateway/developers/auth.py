"""`current_developer`: the developer behind `Authorization: Bearer gw_dk_…` on `/developer/v1` (SPEC §7)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gateway.db.session import SessionDep
from gateway.developers import service
from gateway.developers.service import AuthenticatedDeveloper
from gateway.errors import Unauthorized
from gateway.keys.dependencies import KeyringDep

developer_key = HTTPBearer(
    auto_error=False,
    scheme_name="developerKey",
    bearerFormat="gw_dk_…",
    description="A developer key, from `gateway developer create` or `POST /developer/v1/keys/rotate`.",
)


async def current_developer(
    request: Request,
    session: SessionDep,
    ring: KeyringDep,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(developer_key)],
) -> AuthenticatedDeveloper:
    authorization = request.headers.get("authorization")
    if authorization is None:
        raise Unauthorized(
            "Send a developer key as `Authorization: Bearer gw_dk_…`.", headers=service.BEARER_CHALLENGE
        )
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        raise service.invalid_key()
    return await service.authenticate(session, ring, token.strip())


DeveloperDep = Annotated[AuthenticatedDeveloper, Depends(current_developer)]
