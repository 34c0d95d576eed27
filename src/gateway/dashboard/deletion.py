"""`/dashboard/deletion`: a school admin asks for the school's data to be deleted, or cancels the request
(SPEC §3.8), and sees what is scheduled and what was purged.

Asking cannot be undone once the purge has run, so the admin confirms with their password and, when they
have an authenticator app, a code (`accounts.service.confirm_identity`: a wrong one counts towards
lockout, and the form is throttled like sign-in). Every active admin is emailed either way. Form fields:
`password`, `code`, `csrf_token`. 303 after every POST, with a notice or problem from a fixed code.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Form, Request, Response
from sqlalchemy import select

from gateway.accounts.page_session import (
    FormField,
    HashingDep,
    IssuerDep,
    ThrottleDep,
    require_session_csrf,
    see_other,
    signed_in,
    signed_in_or_sign_in,
)
from gateway.accounts.service import confirm_identity
from gateway.accounts.sessions import Stage
from gateway.audit import events
from gateway.db.base import utcnow
from gateway.db.session import SessionDep
from gateway.erasure.models import PurgeRecord
from gateway.erasure.notices import announce_cancellation, announce_deletion
from gateway.erasure.requests import cancel_deletion, pending_deletions, request_deletion
from gateway.errors import NotFound
from gateway.keys.dependencies import KeyringDep
from gateway.schools.models import School
from gateway.web.templates import render

router = APIRouter(include_in_schema=False)

PATH: Final = "/dashboard/deletion"
NOTICES: Final = {
    "requested": "Deletion requested. Every admin has been emailed; you can cancel it here until it runs.",
    "cancelled": "Deletion cancelled. Nothing will be deleted, and every admin has been emailed.",
}
PROBLEMS: Final = {
    "identity": "That password or code is not right. Nothing was deleted.",
    "nothing": "There was no deletion request to cancel.",
}
RULES: Final = {
    "deletion_requested": "Deletion of all the school's data",
    "connector_deleted": "The MIS connector was deleted: deletion of the school's MIS data",
    "inactive": "A year without activity: deletion of all the school's data",
    "former_pupil": "Former pupils erased on their 25th birthday",
}
Code = Annotated[str, Form(max_length=40)]


@router.get(PATH)
async def deletion_page(
    request: Request, session: SessionDep, notice: str | None = None, problem: str | None = None
) -> Response:
    opened = await signed_in_or_sign_in(request, session)
    if isinstance(opened, Response):
        return opened
    record, admin = opened
    pending = await pending_deletions(session, admin.school_id)
    purges = list(
        await session.scalars(
            select(PurgeRecord)
            .where(PurgeRecord.school_id == admin.school_id)
            .order_by(PurgeRecord.purged_at.desc())
            .limit(20)
        )
    )
    return render(
        request,
        "dashboard_deletion.html",
        title="Delete the school's data",
        csrf_token=record.csrf_token,
        notice=NOTICES.get(notice or ""),
        problems=[PROBLEMS[problem]] if problem in PROBLEMS else [],
        school=await session.get(School, admin.school_id),
        pending=pending,
        requested=any(row.rule == "deletion_requested" for row in pending),
        purges=purges,
        rules=RULES,
        needs_code=admin.totp_enrolled_at is not None,
    )


@router.post(PATH)
async def ask(
    request: Request,
    session: SessionDep,
    ring: KeyringDep,
    hashing: HashingDep,
    limiter: ThrottleDep,
    iss: IssuerDep,
    csrf_token: FormField,
    password: FormField = "",
    code: Code = "",
) -> Response:
    record, admin = await signed_in(request, session, Stage.FULL)
    require_session_csrf(record, csrf_token)
    await limiter.check(request, "login")
    if not await confirm_identity(session, hashing, ring, admin, password=password, code=code, issuer=iss):
        return see_other(f"{PATH}?problem=identity")
    school = await session.get(School, admin.school_id)
    assert school is not None
    deletion = await request_deletion(session, school, actor=events.admin(admin.id), now=utcnow())
    await announce_deletion(session, school, deletion, issuer=iss)
    return see_other(f"{PATH}?notice=requested")


@router.post(f"{PATH}/cancel")
async def cancel(request: Request, session: SessionDep, iss: IssuerDep, csrf_token: FormField) -> Response:
    record, admin = await signed_in(request, session, Stage.FULL)
    require_session_csrf(record, csrf_token)
    school = await session.get(School, admin.school_id)
    assert school is not None
    try:
        await cancel_deletion(session, school, actor=events.admin(admin.id), now=utcnow())
    except NotFound:
        return see_other(f"{PATH}?problem=nothing")
    await announce_cancellation(session, school, issuer=iss)
    return see_other(f"{PATH}?notice=cancelled")
