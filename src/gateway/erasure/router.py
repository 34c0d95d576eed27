"""`/manage/v1/connector` and `/manage/v1/deletions`: the school deletes its MIS connector, and sees its
scheduled deletions (SPEC §3.8). A request to delete the whole school's data is made on the dashboard,
where the admin confirms with their password (and second factor): a script's API key cannot ask for it.

Thin: one service call each (`gateway.erasure.requests`); the admins are mailed (`gateway.erasure.notices`).
"""

from __future__ import annotations

from fastapi import Request

from gateway.db.base import utcnow
from gateway.db.session import SessionDep
from gateway.erasure.notices import announce_deletion
from gateway.erasure.requests import delete_connector, deletions_of
from gateway.erasure.schemas import DeletionList, DeletionOut, deletion_out
from gateway.errors import problem_responses
from gateway.http.json_body import json_api_router
from gateway.manage.auth import PrincipalDep
from gateway.schools.models import School

router = json_api_router(prefix="/manage/v1", tags=["manage"])

_AUTH = {401: "Missing, wrong or revoked school API key, or no fully signed-in admin session"}
_CSRF = {403: "Session cookie without a matching `X-CSRF-Token` header (POST, PUT, PATCH, DELETE)"}


@router.delete(
    "/connector",
    summary="Delete the school's MIS connector; its MIS data is purged 5 working days later",
    description=(
        "Revokes every connector key at once (the MIS can no longer sync; no new key can be created until "
        "the purge has run) and schedules the purge of the school's MIS data, every app's access with it, "
        "at the end of the 5th working day (England and Wales) after today. Cannot be undone. Every admin "
        "is emailed. Deleting again answers the same scheduled deletion."
    ),
    status_code=202,
    response_model=DeletionOut,
    responses=problem_responses({**_AUTH, **_CSRF}),
)
async def delete_mis_connector(request: Request, session: SessionDep, principal: PrincipalDep) -> DeletionOut:
    school = await session.get(School, principal.school_id)
    assert school is not None, "a principal's school exists"
    deletion = await delete_connector(session, school, actor=principal.actor, now=utcnow())
    await announce_deletion(session, school, deletion, issuer=request.app.state.settings.issuer)
    return deletion_out(deletion)


@router.get(
    "/deletions",
    summary="The school's scheduled deletions: pending, cancelled or done",
    response_model=DeletionList,
    responses=problem_responses(_AUTH),
)
async def list_deletions(session: SessionDep, principal: PrincipalDep) -> DeletionList:
    return DeletionList(
        deletions=[deletion_out(row) for row in await deletions_of(session, principal.school_id)]
    )
