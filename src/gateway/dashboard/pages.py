"""`/dashboard`: the school admin's connected apps — what each can see, narrow it, revoke it (SPEC §3.6, §7).

Plain HTML forms, no JavaScript; CSRF on every form; 303 after every POST, with a notice from a fixed code.
Thin: `oauth.grant_changes` decides, exactly as for `/manage/v1/grants`. Form names: `remove_scope` per
optional scope, `audience` (`school` | `groups`, only while the grant covers the whole school), `group`,
`exclude_student` (pupils to hide as well as those hidden already). A refused narrowing is shown again
with the admin's choices kept (422). Another school's grant, or no grant, is a 404 page. The pupil
picker's "Find" button (`find_pupils`, with `pupil_search`) shows the page again with the choices kept and
the pupils filtered, without JavaScript.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData

from gateway.accounts.models import Admin, AdminSession
from gateway.accounts.page_session import (
    see_other,
    session_form,
    signed_in,
    signed_in_or_sign_in,
)
from gateway.accounts.sessions import Stage
from gateway.audit import events
from gateway.consent import choices, grants
from gateway.consent.audience import Audience
from gateway.consent.choices import MAX_PUPIL_SEARCH_LENGTH, Choice, pupil_matches
from gateway.consent.grants import GrantEnded, GrantSummary, GrantView
from gateway.consent.repository import GrantNotFound
from gateway.consent.rules import MAX_AUDIENCE_IDS, Narrowing, NarrowingRefused
from gateway.db.base import utcnow
from gateway.db.session import SessionDep
from gateway.incidents.notices import school_notices
from gateway.keys.dependencies import KeyringDep
from gateway.schools.models import School
from gateway.web.templates import render

router = APIRouter(include_in_schema=False)

NOTICES: Final = {
    "narrowed": "Done. The app sees less from its very next request, and the change is in the school's "
    "authorisation log.",
    "revoked": "Access revoked. The app can no longer read any of the school's data; it would have to ask "
    "again, and an admin approve, to reconnect.",
}
MAX_FORM_FIELDS: Final = 2 * MAX_AUDIENCE_IDS + 100
MAX_VALUE_LENGTH: Final = 100
SHOWN_GROUPS: Final = 6


@dataclass(frozen=True, slots=True)
class Form:
    """What the narrow form sent, kept to show again when it is refused."""

    remove: frozenset[str] = frozenset()
    audience_kind: str = "school"
    groups: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


# --- Words for people -----------------------------------------------------------------------------------


def when(value: datetime | None) -> str:
    return "Never" if value is None else value.strftime("%d %B %Y at %H:%M UTC").lstrip("0")


def audience_text(audience: Audience, names: dict[str, str]) -> str:
    """ "The whole school" or "Only pupils in Year 7, 8B", with how many pupils are hidden."""
    if audience.groups is None:
        text = "The whole school"
    else:
        labels = sorted(names.get(group, "a group no longer in the MIS") for group in audience.groups)
        more = len(labels) - SHOWN_GROUPS
        text = (
            "Only pupils in "
            + ", ".join(labels[:SHOWN_GROUPS])
            + (f" and {more} more groups" if more > 0 else "")
        )
    hidden = len(audience.exclude)
    if hidden:
        text += f", except {hidden} pupil{'s' if hidden != 1 else ''} hidden from the app"
    return text


# --- Helpers ----------------------------------------------------------------------------------------------


def _not_found(request: Request) -> Response:
    return render(
        request,
        "message.html",
        title="Page not found",
        message="There is no connected app of your school here. It may have been revoked already.",
        link={"href": "/dashboard", "text": "Back to connected apps"},
        status_code=404,
    )


def _ended(request: Request, grant_id: uuid.UUID) -> Response:
    return render(
        request,
        "message.html",
        title="Access already revoked",
        message="This app's access was revoked already, so there is nothing left to change.",
        link={"href": f"/dashboard/grants/{grant_id}", "text": "See what it had"},
        status_code=409,
    )


def _grant_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if len(value) <= 36 else None
    except ValueError:
        return None


async def _approvers(session: SessionDep, view: GrantView) -> dict[uuid.UUID, str]:
    """The approving admins' email addresses, for the school's own admins to read."""
    found: dict[uuid.UUID, str] = {}
    for granted in view.granted:
        if granted.approval is not None and granted.approval.admin_id is not None:
            admin = await session.get(Admin, granted.approval.admin_id)
            if admin is not None and admin.school_id == view.grant.school_id:
                found[admin.id] = admin.email
    return found


async def _detail(
    request: Request,
    session: SessionDep,
    ring: KeyringDep,
    record: AdminSession,
    view: GrantView,
    *,
    form: Form | None = None,
    problems: list[str] | None = None,
    notice: str | None = None,
    search: str = "",
) -> Response:
    audience = view.audience
    names = await choices.group_names(session, ring, view.grant.school_id)
    groups, students = await choices.audience_choices(session, ring, view.grant.school_id, utcnow().date())
    if audience.groups is not None:  # only the groups it has: unticking one is the only change allowed
        groups = {"granted": [Choice(group, names.get(group, group)) for group in audience.sorted_groups]}
    hidden = set(audience.exclude)
    labels = {student.id: student.label for student in students}
    return render(
        request,
        "dashboard_grant.html",
        title="Manage a connected app",
        csrf_token=record.csrf_token,
        notice=NOTICES.get(notice or ""),
        problems=problems or [],
        view=view,
        audience_text=audience_text(audience, names),
        last_access=when(view.last_access_at),
        approvers=await _approvers(session, view),
        when=when,
        groups=groups,
        hidden=sorted(labels.get(student, "A pupil no longer on roll") for student in audience.exclude),
        students=[student for student in students if student.id not in hidden],
        search=search,
        matches=pupil_matches,
        form=form
        or Form(
            audience_kind="school" if audience.groups is None else "groups", groups=audience.sorted_groups
        ),
        status_code=422 if problems else 200,
    )


def _narrowing(view: GrantView, form: Form) -> Narrowing:
    current = view.audience
    if current.groups is None and form.audience_kind != "groups":
        groups: tuple[str, ...] | None = None
    else:
        groups = form.groups
    wanted = Audience.chosen(groups, (*current.exclude, *form.exclude))
    unchanged = (groups is None) == (current.groups is None) and set(groups or ()) == set(
        current.groups or ()
    )
    unchanged = unchanged and set(wanted.exclude) == set(current.exclude)
    return Narrowing(tuple(sorted(form.remove)), None if unchanged else wanted)


def _read_form(form: FormData) -> tuple[Form, list[str]]:
    values = {name: [str(v) for v in form.getlist(name)] for name in form}
    problems = []
    if any(len(v) > MAX_VALUE_LENGTH for vs in values.values() for v in vs):
        problems.append("A value on the form is too long. Reload the page and try again.")
    kinds = values.get("audience", [])
    return Form(
        remove=frozenset(values.get("remove_scope", [])),
        audience_kind=kinds[0] if len(kinds) == 1 else "school",
        groups=tuple(dict.fromkeys(values.get("group", []))),
        exclude=tuple(dict.fromkeys(values.get("exclude_student", []))),
    ), problems


# --- Pages ------------------------------------------------------------------------------------------------


@router.get("/dashboard")
async def dashboard(
    request: Request, session: SessionDep, ring: KeyringDep, notice: str | None = None
) -> Response:
    opened = await signed_in_or_sign_in(request, session)
    if isinstance(opened, Response):
        return opened
    record, admin = opened
    page = await grants.list_grants(session, admin.school_id, limit=grants.MAX_PAGE)
    names = (
        await choices.group_names(session, ring, admin.school_id)
        if any(row.audience.groups is not None for row in page.grants)
        else {}
    )
    rows: list[tuple[GrantSummary, str, str]] = [
        (row, audience_text(row.audience, names), when(row.last_access_at)) for row in page.grants
    ]
    return render(
        request,
        "dashboard.html",
        title="Connected apps",
        csrf_token=record.csrf_token,
        notice=NOTICES.get(notice or ""),
        problems=[],
        school=await session.get(School, admin.school_id),
        rows=rows,
        incidents=await school_notices(session, admin.school_id, now=utcnow()),
    )


async def _open_grant(
    request: Request, session: SessionDep, grant_id: str
) -> tuple[AdminSession, GrantView] | Response:
    """The signed-in admin's session and one of their school's grants, or the page to answer instead."""
    opened = await signed_in_or_sign_in(request, session)
    if isinstance(opened, Response):
        return opened
    record, admin = opened
    parsed = _grant_id(grant_id)
    if parsed is None:
        return _not_found(request)
    try:
        return record, await grants.read_grant(session, admin.school_id, parsed, now=utcnow())
    except GrantNotFound:
        return _not_found(request)


@router.get("/dashboard/grants/{grant_id}")
async def grant_page(
    request: Request, grant_id: str, session: SessionDep, ring: KeyringDep, notice: str | None = None
) -> Response:
    opened = await _open_grant(request, session, grant_id)
    if isinstance(opened, Response):
        return opened
    record, view = opened
    return await _detail(request, session, ring, record, view, notice=notice)


@router.post("/dashboard/grants/{grant_id}/narrow")
async def narrow(request: Request, grant_id: str, session: SessionDep, ring: KeyringDep) -> Response:
    record, admin = await signed_in(request, session, Stage.FULL)
    submitted = await session_form(request, record, max_fields=MAX_FORM_FIELDS)
    form, problems = _read_form(submitted)
    parsed = _grant_id(grant_id)
    if parsed is None:
        return _not_found(request)
    now = utcnow()
    try:
        view = await grants.read_grant(session, admin.school_id, parsed, now=now)
        if view.grant.revoked_at is not None:
            return _ended(request, parsed)
        if "find_pupils" in submitted:  # the pupil search, without JavaScript: the same page, choices kept
            search = str(submitted.get("pupil_search") or "")[:MAX_PUPIL_SEARCH_LENGTH]
            return await _detail(request, session, ring, record, view, form=form, search=search)
        if not problems:
            await grants.narrow(
                session,
                ring,
                admin.school_id,
                parsed,
                _narrowing(view, form),
                actor=events.admin(admin.id),
                now=now,
            )
            return see_other(f"/dashboard/grants/{parsed}?notice=narrowed")
    except GrantNotFound:
        return _not_found(request)
    except GrantEnded:
        return _ended(request, parsed)
    except NarrowingRefused as refused:
        problems = [error["detail"] for error in refused.errors]
    return await _detail(request, session, ring, record, view, form=form, problems=problems)


@router.get("/dashboard/grants/{grant_id}/revoke")
async def revoke_form(request: Request, grant_id: str, session: SessionDep) -> Response:
    opened = await _open_grant(request, session, grant_id)
    if isinstance(opened, Response):
        return opened
    record, view = opened
    if view.grant.revoked_at is not None:
        return _ended(request, view.grant.id)
    return render(
        request,
        "dashboard_revoke.html",
        title="Revoke this app's access?",
        csrf_token=record.csrf_token,
        notice=None,
        problems=[],
        view=view,
    )


@router.post("/dashboard/grants/{grant_id}/revoke")
async def revoke(request: Request, grant_id: str, session: SessionDep) -> Response:
    record, admin = await signed_in(request, session, Stage.FULL)
    await session_form(request, record, max_fields=MAX_FORM_FIELDS)
    parsed = _grant_id(grant_id)
    if parsed is None:
        return _not_found(request)
    try:
        await grants.revoke(session, admin.school_id, parsed, actor=events.admin(admin.id), now=utcnow())
    except GrantNotFound:
        return _not_found(request)
    except GrantEnded:
        return _ended(request, parsed)
    return see_other("/dashboard?notice=revoked")
