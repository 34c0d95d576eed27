"""`/dashboard/pupils` and `/dashboard/pupils/{id}`: find a pupil, then see which apps can see them now and
which data API responses carried them (issue 13, item 4), for a subject access request.

GET pages only, no JavaScript. The search opens the school's pupils to match names (`pupils.search`); the
pupil page reads `pupils.disclosures`, as `/manage/v1/students/{id}/disclosures` does, and links to it
for a copy in JSON. Times are UK time.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request, Response

from gateway.accounts.models import AdminSession
from gateway.consent.choices import MAX_PUPIL_SEARCH_LENGTH
from gateway.dashboard import words
from gateway.dashboard.page_queries import BadQuery, bad_query_page, page_query, signed_in_school
from gateway.db.base import utcnow
from gateway.db.session import SessionDep
from gateway.http.cursors import MAX_CURSOR_LENGTH, InvalidCursor
from gateway.keys.dependencies import KeyringDep
from gateway.pupils import disclosures, search
from gateway.scopes import CATALOGUE
from gateway.web.templates import render
from gateway.web.times import iso_utc, uk_time

router = APIRouter(include_in_schema=False)

PAGE: Final = 25
CURSOR_KIND: Final = "dashboard-pupil"
_STUDENT_ID: Final = re.compile(r"[A-Za-z0-9._:-]{1,64}")


@router.get("/dashboard/pupils")
async def pupils_page(request: Request, session: SessionDep, ring: KeyringDep) -> Response:
    opened = await signed_in_school(request, session)
    if isinstance(opened, Response):
        return opened
    record, school_id = opened
    try:
        query = page_query(request, {"q": MAX_PUPIL_SEARCH_LENGTH})
    except BadQuery:
        return bad_query_page(request, record, "/dashboard/pupils")
    wanted = query.get("q", "").strip()
    found = await search.find(session, ring, school_id, wanted)
    return render(
        request,
        "dashboard_pupils.html",
        title="Pupils",
        csrf_token=record.csrf_token,
        notice=None,
        problems=[],
        search=wanted,
        found=found,
        link=lambda pupil: f"/dashboard/pupils/{quote(pupil.id, safe='')}",
    )


@dataclass(frozen=True, slots=True)
class AppNow:
    """An app that can see the pupil now, in the admin's words."""

    name: str
    kinds: list[tuple[str, list[tuple[str, str, bool]]]]  # (kind of data, fields by scope)
    since: str
    since_iso: str
    approved_by: str
    sensitive: list[str]  # "Special educational needs: approved by … on …"


@dataclass(frozen=True, slots=True)
class Sent:
    """One response that carried the pupil."""

    when: str
    iso: str
    app: str
    kind: str
    fields: list[tuple[str, str, bool]]
    records: int


def _admin_name(names: words.Names, admin_id: uuid.UUID | None) -> str:
    if admin_id is None:
        return "an admin since removed"
    return names.admins.get(str(admin_id), "an admin since removed")


def _fields_about(resource: str, fields: frozenset[str]) -> list[tuple[str, str, bool]]:
    """A pupil's fields in words; of a group, only its list of pupils is about them: their membership."""
    if resource == "groups":
        return [(CATALOGUE["groups"].title, "which of them the pupil is in", False)]
    return words.fields_by_scope(resource, fields)


def _apps_now(found: list[disclosures.CurrentAccess], names: words.Names) -> list[AppNow]:
    return [
        AppNow(
            name=access.app_name,
            kinds=[
                (words.resource_title(resource), _fields_about(resource, fields))
                for resource, fields in access.fields.items()
            ],
            since=uk_time(access.since),
            since_iso=iso_utc(access.since),
            approved_by=_admin_name(names, access.approved_by),
            sensitive=[
                f"{CATALOGUE[item.scope].title}: approved by {_admin_name(names, item.admin_id)} "
                f"on {uk_time(item.approved_at)}"
                for item in access.sensitive
            ],
        )
        for access in found
    ]


def _not_found(request: Request, record: AdminSession) -> Response:
    return render(
        request,
        "message.html",
        title="No such pupil",
        message="The school's MIS has sent no pupil with this id.",
        link={"href": "/dashboard/pupils", "text": "Find a pupil"},
        csrf_token=record.csrf_token,
        status_code=404,
    )


@router.get("/dashboard/pupils/{student_id}")
async def pupil_page(student_id: str, request: Request, session: SessionDep, ring: KeyringDep) -> Response:
    opened = await signed_in_school(request, session)
    if isinstance(opened, Response):
        return opened
    record, school_id = opened
    if not _STUDENT_ID.fullmatch(student_id) or not await disclosures.student_known(
        session, school_id, student_id
    ):
        return _not_found(request, record)
    here = f"/dashboard/pupils/{quote(student_id, safe='')}"
    try:
        query = page_query(request, {"cursor": MAX_CURSOR_LENGTH})
        page = await disclosures.disclosure_page(
            session, ring, school_id, student_id, cursor=query.get("cursor"), limit=PAGE, kind=CURSOR_KIND
        )
    except (BadQuery, InvalidCursor):
        return bad_query_page(request, record, here)
    pupil = await search.named(session, ring, school_id, student_id)
    names = await words.school_names(session, school_id)
    now = await disclosures.current_access(session, ring, school_id, student_id, utcnow().date())
    sent = [
        Sent(
            when=uk_time(item.occurred_at),
            iso=iso_utc(item.occurred_at),
            app=names.apps.get(str(item.app_id))
            or names.clients.get(item.client_id)
            or "An app since deleted",
            kind=words.resource_title(item.resource),
            fields=words.fields_by_scope(item.resource, item.fields),
            records=item.record_count,
        )
        for item in page.items
    ]
    return render(
        request,
        "dashboard_pupil.html",
        title=pupil.label if pupil is not None else "A pupil no longer in the MIS",
        wide=True,
        csrf_token=record.csrf_token,
        notice=None,
        problems=[],
        pupil=pupil,
        student_id=student_id,
        apps_now=_apps_now(now, names),
        sent=sent,
        older=f"{here}?{urlencode({'cursor': page.next_cursor})}" if page.next_cursor else None,
        first_page=here if query.get("cursor") else None,
        json_url=f"/manage/v1/students/{quote(student_id, safe='')}/disclosures",
    )
