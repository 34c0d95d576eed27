"""A token a client presents: what kind it is, and whether it may be used now (SPEC §3.4, §3.5).

The gateway's tokens are told apart by shape, so a `token_type_hint` is never needed: a refresh token
starts with `gw_rt_`, an access token is a compact JWS (three dot-separated parts). Anything else is no
token of ours.

`state_of` loads, in ONE indexed query, everything that can end a verified access token early — its app
(by client id), the grant it names (for its school and app) with the school's change number, and the
token's own row (recorded at issue, or on revocation) — and hands it to `tokens.state.decide`. The bearer
check of the data API and introspection both call it, so they give the same verdict for every token.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import Select, Uuid, and_, bindparam, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.models import App
from gateway.consent.models import Grant
from gateway.schools.models import School
from gateway.tokens.access_tokens import AccessTokenClaims
from gateway.tokens.models import IssuedAccessToken
from gateway.tokens.refresh import looks_like_refresh_token
from gateway.tokens.state import GrantFacts, Recorded, Refusal, Verdict, decide, school_token_ids
from gateway.tokens.verification import looks_like_access_token


class TokenKind(StrEnum):
    ACCESS = "access_token"
    REFRESH = "refresh_token"
    UNKNOWN = "unknown"


def kind_of(token: str) -> TokenKind:
    if looks_like_refresh_token(token):
        return TokenKind.REFRESH
    if looks_like_access_token(token):
        return TokenKind.ACCESS
    return TokenKind.UNKNOWN


@dataclass(frozen=True, slots=True)
class TokenState:
    """The verdict on a token, with what the query loaded (the data API and introspection use both)."""

    verdict: Verdict
    app_id: uuid.UUID | None
    app: App | None  # the whole row, only when asked for (`with_app`): introspection authenticates with it
    grant: Grant | None
    change_seq: int


def _state_query(school_token: bool, *, with_app: bool) -> Select[Any]:
    grant_match = (
        and_(
            Grant.id == bindparam("grant_id", type_=Uuid()),
            Grant.school_id == bindparam("school_id", type_=Uuid()),
            Grant.app_id == App.id,
        )
        if school_token
        else false()
    )
    # Primary-key or unique lookups throughout: apps.client_id, grants.id, schools.id, access_tokens.jti.
    app_columns = (App.id, App.client_id, App) if with_app else (App.id, App.client_id)
    return (
        select(
            *app_columns,
            Grant,
            IssuedAccessToken.jti,
            IssuedAccessToken.grant_id,
            IssuedAccessToken.revoked_at,
            School.change_seq,
        )
        .select_from(App)
        .outerjoin(Grant, grant_match)
        .outerjoin(School, School.id == Grant.school_id)
        .outerjoin(
            IssuedAccessToken,
            and_(IssuedAccessToken.jti == bindparam("jti"), IssuedAccessToken.app_id == App.id),
        )
        .where(App.client_id == bindparam("client_id"))
    )


# (school token?, with the app row?) → the prepared query. The bearer check, on the data API's hot path,
# loads two columns of the app; introspection loads the row, which client authentication needs.
_STATE_QUERIES: Final = {
    (school, with_app): _state_query(school, with_app=with_app)
    for school in (True, False)
    for with_app in (True, False)
}


async def state_of(
    session: AsyncSession, claims: AccessTokenClaims, *, client_id: str, now: datetime, with_app: bool = False
) -> TokenState:
    """The verdict on a verified token, loading its app by `client_id`.

    The bearer check passes the token's own client id; introspection passes the caller's (whose app it
    must authenticate anyway, so it asks `with_app`): a token of another client then finds no grant of
    the caller's and is never active.
    """
    try:
        ids = school_token_ids(claims)
    except ValueError:
        return TokenState(Verdict(Refusal.INVALID_IDS), None, None, None, 0)
    parameters: dict[str, object] = {"client_id": client_id, "jti": claims.jti}
    if ids is not None:
        parameters["grant_id"], parameters["school_id"] = ids
    row = (await session.execute(_STATE_QUERIES[ids is not None, with_app], parameters)).first()
    if row is None:
        recorded = Recorded(None, None, None, recorded=False, revoked=False)
        return TokenState(decide(claims, recorded, now=now), None, None, None, 0)
    app_id, app_client_id, *loaded = tuple(row)
    app: App | None = loaded.pop(0) if with_app else None
    grant, jti, recorded_grant_id, revoked_at, change_seq = loaded
    facts = (
        GrantFacts(grant.id, grant.school_id, grant.app_id, grant.scope_set, grant.revoked_at is not None)
        if grant is not None
        else None
    )
    mine = app_client_id == claims.client_id
    recorded = Recorded(
        app_id if mine else None,
        facts,
        recorded_grant_id,
        recorded=jti is not None,
        revoked=revoked_at is not None,
    )
    return TokenState(decide(claims, recorded, now=now), app_id, app, grant, int(change_seq or 0))
