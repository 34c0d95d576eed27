"""`/dashboard/settings`: the school's own settings — its data protection contact, and whether admins are
emailed when an app asks for more access (`gateway.schools.settings`; issue 16, item 3).

A plain form, no JavaScript: `dpo_name`, `dpo_email`, `email_on_more_access` (a checkbox, `on` when ticked),
`csrf_token`. 303 after a POST that saved; a refused one is shown again (422) with the admin's values kept
and nothing changed; a field given twice, or a value no person types (over 1,000 characters, a NUL, bytes
that are not UTF-8), is a 400.
Every change is a `school.settings_changed` event naming what changed, never the contact.
"""

from __future__ import annotations

import uuid
from typing import Final

from fastapi import APIRouter, Request, Response

from gateway.accounts.page_session import (
    see_other,
    session_form,
    signed_in,
    signed_in_or_sign_in,
)
from gateway.accounts.sessions import Stage
from gateway.audit import events
from gateway.db.base import utcnow
from gateway.db.session import SessionDep
from gateway.db.unstorable import is_storable_text
from gateway.errors import InvalidInput
from gateway.schools.models import School
from gateway.schools.settings import Settings, change_settings, settings_of
from gateway.support.requests import requests_of
from gateway.web.templates import render

router = APIRouter(include_in_schema=False)

PATH: Final = "/dashboard/settings"
FIELDS: Final = ("dpo_name", "dpo_email", "email_on_more_access")
MAX_VALUE_LENGTH: Final = 1000
NOT_UTF8: Final = "\ufffd"  # what bytes that are not UTF-8 (a lone surrogate's, say) decode to
NOTICES: Final = {"saved": "Settings saved. The change is in the school's authorisation log."}
WORDS: Final = {
    "#/dpo_name": "Data protection contact's name",
    "#/dpo_email": "Data protection contact's email address",
}


def _refused(request: Request) -> Response:
    return render(
        request,
        "message.html",
        title="That form could not be read",
        message="Nothing was changed. Open the settings page and try again.",
        link={"href": PATH, "text": "Back to the settings"},
        status_code=400,
    )


async def _page(
    request: Request,
    session: SessionDep,
    csrf_token: str,
    school_id: uuid.UUID,
    shown: Settings,
    *,
    notice: str | None = None,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    now = utcnow()
    return render(
        request,
        "dashboard_settings.html",
        title="School settings",
        csrf_token=csrf_token,
        notice=notice,
        problems=problems or [],
        school=await session.get(School, school_id),
        settings=shown,
        support=[(row, row.state_at(now)) for row in await requests_of(session, school_id, limit=20)],
        status_code=status_code,
    )


@router.get(PATH)
async def settings_page(request: Request, session: SessionDep, notice: str | None = None) -> Response:
    opened = await signed_in_or_sign_in(request, session)
    if isinstance(opened, Response):
        return opened
    record, admin = opened
    current = await settings_of(session, admin.school_id)
    return await _page(
        request, session, record.csrf_token, admin.school_id, current, notice=NOTICES.get(notice or "")
    )


@router.post(PATH)
async def save_settings(request: Request, session: SessionDep) -> Response:
    record, admin = await signed_in(request, session, Stage.FULL)
    form = await session_form(request, record, max_fields=len(FIELDS) + 1)
    values: dict[str, str] = {}
    for name in FIELDS:
        given = form.getlist(name)
        if len(given) > 1 or not all(isinstance(value, str) for value in given):
            return _refused(request)
        value = str(given[0]) if given else ""
        if len(value) > MAX_VALUE_LENGTH or not is_storable_text(value) or NOT_UTF8 in value:
            return _refused(request)
        values[name] = value
    if values["email_on_more_access"] not in ("", "on"):
        return _refused(request)
    wanted = Settings(values["dpo_name"], values["dpo_email"], values["email_on_more_access"] == "on")
    try:
        await change_settings(
            session,
            admin.school_id,
            dpo_name=values["dpo_name"],
            dpo_email=values["dpo_email"],
            email_on_more_access=wanted.email_on_more_access,
            actor=events.admin(admin.id),
        )
    except InvalidInput as refused:
        problems = [
            f"{WORDS.get(error['pointer'], 'A value')}: {error['detail']}." for error in refused.errors or []
        ]
        return await _page(
            request, session, record.csrf_token, admin.school_id, wanted, problems=problems, status_code=422
        )
    return see_other(f"{PATH}?notice=saved")
