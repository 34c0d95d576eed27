"""`/dashboard/support`: the school's admins see every support request (pending, live, past) and answer.

Approving needs an admin with an authenticator app (they signed in with it); declining, shortening and
withdrawing only reduce access. Form fields: `hours` (approve: how many, at most what was asked; shorten:
how many more from now), `csrf_token`. 303 after every POST with a notice or problem from a fixed code.
The rules are `gateway.support.requests`; another school's request id is the same 404 page as an unknown.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Final

from fastapi import APIRouter, Form, Request, Response

from gateway.accounts.page_session import (
    FormField,
    require_session_csrf,
    see_other,
    signed_in,
    signed_in_or_sign_in,
)
from gateway.accounts.sessions import Stage
from gateway.audit import events
from gateway.db.base import utcnow
from gateway.db.session import SessionDep
from gateway.errors import Conflict, Forbidden, InvalidInput, NotFound
from gateway.support import requests
from gateway.web.templates import render

router = APIRouter(include_in_schema=False)

PATH: Final = "/dashboard/support"
NOTICES: Final = {
    "approved": "Approved. The operator can read what was asked until the time shown, and every read is in "
    "the authorisation log.",
    "declined": "Declined. The operator cannot read anything.",
    "shortened": "Shortened: the approval ends at the new time shown.",
    "withdrawn": "Withdrawn: the operator can no longer read anything, from now.",
}
PROBLEMS: Final = {
    "totp": "Approving needs an authenticator app: set one up on your account page, sign in again with it, "
    "then approve.",
    "answered": "That request has been answered already.",
    "not_live": "That approval is not live any more.",
    "hours": "Choose a number of hours from the list.",
}
Hours = Annotated[str, Form(max_length=8)]


def _request_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _hours(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 3 else None


def _not_found(request: Request) -> Response:
    return render(request, "not_found.html", status_code=404, title="Not found", notice=None, problems=[])


@router.get(PATH)
async def support_page(
    request: Request, session: SessionDep, notice: str | None = None, problem: str | None = None
) -> Response:
    opened = await signed_in_or_sign_in(request, session)
    if isinstance(opened, Response):
        return opened
    record, admin = opened
    now = utcnow()
    rows = await requests.requests_of(session, admin.school_id)
    return render(
        request,
        "dashboard_support.html",
        title="Support access",
        csrf_token=record.csrf_token,
        notice=NOTICES.get(notice or ""),
        problems=[PROBLEMS[problem]] if problem in PROBLEMS else [],
        pending=[row for row in rows if row.state_at(now) == "pending"],
        live=[row for row in rows if row.state_at(now) == "live"],
        past=[(row, row.state_at(now)) for row in rows if row.state_at(now) not in ("pending", "live")],
        can_approve=admin.totp_enrolled_at is not None,
        now=now,
    )


@router.post(PATH + "/{request_id}/{action}")
async def answer(
    request: Request,
    request_id: str,
    action: str,
    session: SessionDep,
    csrf_token: FormField,
    hours: Hours = "",
) -> Response:
    record, admin = await signed_in(request, session, Stage.FULL)
    require_session_csrf(record, csrf_token)
    parsed = _request_id(request_id)
    if parsed is None or action not in ("approve", "decline", "shorten", "withdraw"):
        return _not_found(request)
    actor, now, school_id = events.admin(admin.id), utcnow(), admin.school_id
    try:
        if action == "approve":
            count = _hours(hours)
            if count is None:
                return see_other(f"{PATH}?problem=hours")
            await requests.approve(
                session,
                school_id,
                parsed,
                actor=actor,
                with_second_factor=admin.totp_enrolled_at is not None,
                now=now,
                hours=count,
            )
        elif action == "decline":
            await requests.decline(session, school_id, parsed, actor=actor, now=now)
        elif action == "shorten":
            count = _hours(hours)
            if count is None:
                return see_other(f"{PATH}?problem=hours")
            await requests.shorten(
                session, school_id, parsed, until=now + timedelta(hours=count), actor=actor, now=now
            )
        else:
            await requests.withdraw(session, school_id, parsed, actor=actor, now=now)
    except NotFound:
        return _not_found(request)
    except Forbidden:
        return see_other(f"{PATH}?problem=totp")
    except requests.AlreadyAnswered:
        return see_other(f"{PATH}?problem=answered")
    except InvalidInput:
        return see_other(f"{PATH}?problem=hours")
    except Conflict:
        return see_other(f"{PATH}?problem=not_live")
    done = {"approve": "approved", "decline": "declined", "shorten": "shortened", "withdraw": "withdrawn"}
    return see_other(f"{PATH}?notice={done[action]}")
