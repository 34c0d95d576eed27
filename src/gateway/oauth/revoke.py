"""`POST /oauth/revoke` (RFC 7009): a client revokes one of its own tokens.

The answer is 200 whatever it is given (§2.2): an unknown, malformed or expired token, or another
client's token, is simply left as it is — never revoked on a stranger's say-so. The `token_type_hint` is
not needed (our tokens are told apart by shape) and so is ignored, whatever its value (§2.1 lets the
server ignore it); `unsupported_token_type` is therefore never answered, since both kinds of token we
issue can be revoked. A refresh token ends its whole family (`tokens.families`); an access token only
itself (§2.1 leaves its refresh token to the server's choice; the app can revoke the refresh token to end
the family).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Final

from fastapi import APIRouter, Request, Response, Security
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit import events
from gateway.db.base import utcnow
from gateway.db.session import SessionDep
from gateway.keys.dependencies import KeyringDep
from gateway.oauth.client_auth import AuthenticatedClient, authenticate_client, claimed_client_id
from gateway.oauth.client_limits import counting_failures
from gateway.oauth.errors import NO_STORE
from gateway.oauth.form_docs import (
    AUTH_FAILURES,
    INVALID_CLIENT,
    NOT_FORM,
    TokenTargetForm,
    client_secret_basic,
    error,
    form_body,
)
from gateway.oauth.forms import read_form, required
from gateway.oauth.presented import TokenKind, kind_of
from gateway.settings import Settings
from gateway.tokens.families import FamilyRevoked, revoke_access_token, revoke_family
from gateway.tokens.refresh import find_refresh_token
from gateway.tokens.verification import verified_access_token

router = APIRouter(prefix="/oauth", tags=["oauth"])


async def revoke_token(
    session: AsyncSession, client: AuthenticatedClient, token: str, *, issuer: str, now: datetime
) -> None:
    """RFC 7009 §2.1 for `client`: revoke `token` if it is one of the client's own; otherwise do nothing."""
    kind = kind_of(token)
    if kind is TokenKind.REFRESH:
        row = await find_refresh_token(session, token)
        if row is None or row.app_id != client.app.id:
            return
        await revoke_family(
            session,
            row,
            family_id=row.family_id,
            actor=events.app(client.client_id),
            reason=FamilyRevoked.REVOKED_BY_APP,
            now=now,
        )
    elif kind is TokenKind.ACCESS:
        claims = await verified_access_token(session, token, issuer=issuer, now=now)
        if claims is None or claims.client_id != client.client_id or claims.expires_at <= now:
            return
        grant_id = uuid.UUID(claims.grant_id) if claims.grant_id is not None else None
        await revoke_access_token(
            session,
            jti=claims.jti,
            app_id=client.app.id,
            grant_id=grant_id,
            expires_at=claims.expires_at,
            now=now,
        )


REVOKE_DESCRIPTION: Final = """\
Revoke a token you no longer need (RFC 7009), e.g. when a school disconnects in your app.

A **refresh token** ends its whole chain: every refresh and access token issued from the same
authorization. An **access token** is refused by the data API from now on. Authenticate as for
`/oauth/token` (public clients send `client_id`). The answer is 200 with an empty body whether or not
the token was valid, yours, or already revoked (RFC 7009 §2.2) — another client's token is never revoked.
"""


@router.post(
    "/revoke",
    summary="Revoke an access or refresh token",
    response_class=Response,
    description=REVOKE_DESCRIPTION,
    dependencies=[Security(client_secret_basic)],
    responses={
        200: {"description": "Revoked, or nothing to revoke (empty body)", "content": {}},
        400: error(
            "The request is refused (RFC 6749 §5.2)",
            {"not_form": NOT_FORM, "missing": ("invalid_request", "The token parameter is required.")},
        ),
        401: INVALID_CLIENT,
        429: AUTH_FAILURES,
    },
    openapi_extra=form_body(
        TokenTargetForm, {"refresh_token": {"token": "gw_rt_…", "token_type_hint": "refresh_token"}}
    ),
)
async def revoke(request: Request, session: SessionDep, keyring: KeyringDep) -> Response:
    settings: Settings = request.app.state.settings
    now = utcnow()
    form = await read_form(request)
    authorization = request.headers.get("authorization")
    async with counting_failures(request, claimed_client_id(authorization, form)):
        client = await authenticate_client(session, keyring, authorization, form, now=now)
    await revoke_token(session, client, required(form, "token"), issuer=settings.issuer, now=now)
    return Response(status_code=200, headers=NO_STORE)
