"""`/manage/v1/support-requests`: the school sees who at the operator asks to see what, and answers.

Thin: one service call each (`gateway.support.requests`). Approving needs an admin's session whose admin
has an authenticator app (they signed in with it); declining, shortening and withdrawing only reduce access,
so a school API key may do them too. Another school's request id answers 404, like an unknown one.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Path

from gateway.accounts.models import Admin
from gateway.db.base import utcnow
from gateway.db.session import SessionDep
from gateway.errors import problem_responses
from gateway.http.json_body import json_api_router
from gateway.manage.auth import PrincipalDep
from gateway.manage.principal import SchoolPrincipal
from gateway.support import requests
from gateway.support.schemas import ApproveIn, ShortenIn, SupportRequestList, SupportRequestOut, request_out

router = json_api_router(prefix="/manage/v1/support-requests", tags=["manage"])

_AUTH = {401: "Missing, wrong or revoked school API key, or no fully signed-in admin session"}
_CSRF = {403: "Session cookie without a matching `X-CSRF-Token` header"}
_MISSING = {404: "No support request with this id at the school", 422: "Malformed id or body"}
_BODY = {400: "Body is not JSON (`malformed-json`: not UTF-8, not JSON, or nested more than 64 deep)"}
RequestId = Annotated[uuid.UUID, Path(description="The support request's id, as listed.")]


async def _second_factor(session: SessionDep, principal: SchoolPrincipal) -> bool:
    if principal.admin_id is None:
        return False
    admin = await session.get(Admin, principal.admin_id)
    return admin is not None and admin.totp_enrolled_at is not None


@router.get(
    "",
    summary="The school's support requests, newest first",
    response_model=SupportRequestList,
    responses=problem_responses(_AUTH),
)
async def list_requests(session: SessionDep, principal: PrincipalDep) -> SupportRequestList:
    now = utcnow()
    rows = await requests.requests_of(session, principal.school_id)
    return SupportRequestList(support_requests=[request_out(row, now) for row in rows])


@router.get(
    "/{request_id}",
    summary="One support request",
    response_model=SupportRequestOut,
    responses=problem_responses({**_AUTH, **_MISSING}),
)
async def read_request(
    request_id: RequestId, session: SessionDep, principal: PrincipalDep
) -> SupportRequestOut:
    return request_out(await requests.school_request(session, principal.school_id, request_id), utcnow())


@router.post(
    "/{request_id}/approve",
    summary="Allow a support request, for the hours asked or fewer",
    description=(
        "Only an admin signed in with an authenticator app can approve (403 otherwise, and for an API key). "
        "The approval ends by itself at `expires_at`, to the second. Recorded as `support.approved`."
    ),
    response_model=SupportRequestOut,
    responses=problem_responses(
        {
            **_AUTH,
            403: "No `X-CSRF-Token`, or not an admin signed in with an authenticator app",
            **_MISSING,
            **_BODY,
            409: "Already answered",
            415: "Body is not JSON",
        }
    ),
)
async def approve_request(
    request_id: RequestId, session: SessionDep, principal: PrincipalDep, body: ApproveIn | None = None
) -> SupportRequestOut:
    now = utcnow()
    row = await requests.approve(
        session,
        principal.school_id,
        request_id,
        actor=principal.actor,
        with_second_factor=await _second_factor(session, principal),
        now=now,
        hours=body.hours if body is not None else None,
    )
    return request_out(row, now)


@router.post(
    "/{request_id}/decline",
    summary="Decline a support request",
    response_model=SupportRequestOut,
    responses=problem_responses(
        {**_AUTH, **_CSRF, **_MISSING, 409: "Already answered", 415: "Body is not JSON"}
    ),
)
async def decline_request(
    request_id: RequestId, session: SessionDep, principal: PrincipalDep
) -> SupportRequestOut:
    now = utcnow()
    row = await requests.decline(session, principal.school_id, request_id, actor=principal.actor, now=now)
    return request_out(row, now)


@router.post(
    "/{request_id}/shorten",
    summary="Bring a live approval's end forward",
    response_model=SupportRequestOut,
    responses=problem_responses(
        {
            **_AUTH,
            **_CSRF,
            **_MISSING,
            **_BODY,
            409: "Not live, or changed meanwhile",
            415: "Body is not JSON",
        }
    ),
)
async def shorten_request(
    request_id: RequestId, body: ShortenIn, session: SessionDep, principal: PrincipalDep
) -> SupportRequestOut:
    now = utcnow()
    row = await requests.shorten(
        session, principal.school_id, request_id, until=body.until, actor=principal.actor, now=now
    )
    return request_out(row, now)


@router.post(
    "/{request_id}/withdraw",
    summary="End a live approval now",
    response_model=SupportRequestOut,
    responses=problem_responses(
        {**_AUTH, **_CSRF, **_MISSING, 409: "Not live, or changed meanwhile", 415: "Body is not JSON"}
    ),
)
async def withdraw_request(
    request_id: RequestId, session: SessionDep, principal: PrincipalDep
) -> SupportRequestOut:
    now = utcnow()
    row = await requests.withdraw(session, principal.school_id, request_id, actor=principal.actor, now=now)
    return request_out(row, now)
