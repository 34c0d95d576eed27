"""`/dashboard/log`, `/dashboard/data`, `/dashboard/ended`: what the school's admins can read of the
authorisation log, the data-access log and the connections that ended (issue 13, item 3).

GET pages only, no JavaScript. Filters come in the query string and are checked by hand
(`dashboard.page_queries`), so that anything unexpected (an unknown or repeated parameter, a malformed date
or id, a cursor this page did not hand out for this school and these filters) answers a 400 page rather
than an error meant for API clients. Every query
is the signed-in admin's school's; times are shown in UK local time with the zone named.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.access_log import service as access_log
from gateway.audit.events import EventType
from gateway.audit.models import AuditEvent
from gateway.audit.service import EventFilter, find_events
from gateway.consent import choices
from gateway.consent.models import Grant
from gateway.dashboard import words
from gateway.dashboard.page_queries import BadQuery, bad_query_page, day, page_query, signed_in_school
from gateway.db.session import SessionDep
from gateway.http.cursors import CURSOR_SECRET, MAX_CURSOR_LENGTH, InvalidCursor, open_cursor, seal_cursor
from gateway.keys.dependencies import KeyringDep
from gateway.keys.keyring import Keyring
from gateway.scopes.catalogue import CATALOGUE, RESOURCES
from gateway.scopes.parsing import sort_scopes
from gateway.web.templates import render
from gateway.web.times import iso_utc, uk_day_end, uk_day_start, uk_time

router = APIRouter(include_in_schema=False)

PAGE: Final = 25
CURSOR_KIND: Final = "dashboard-log"
MAX_FILTER_LENGTH: Final = 40


# --- Authorisation log ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogFilters:
    """The log page's filters as the admin chose them (shown again in the form)."""

    event_type: str = ""
    app: str = ""
    since: date | None = None
    until: date | None = None  # inclusive: the whole day

    def where(self) -> EventFilter:
        return EventFilter(
            event_type=EventType(self.event_type) if self.event_type else None,
            app_id=uuid.UUID(self.app) if self.app else None,
            since=uk_day_start(self.since) if self.since else None,
            until=uk_day_end(self.until) if self.until else None,
        )

    def query(self, **extra: str) -> str:
        values = {
            "type": self.event_type,
            "app": self.app,
            "from": self.since.isoformat() if self.since else "",
            "to": self.until.isoformat() if self.until else "",
            **extra,
        }
        return urlencode({name: value for name, value in values.items() if value})


def _log_filters(query: Mapping[str, str]) -> LogFilters:
    event_type = query.get("type", "")
    if event_type and event_type not in {kind.value for kind in EventType}:
        raise BadQuery
    app = query.get("app", "")
    if app:
        try:
            app = str(uuid.UUID(app))
        except ValueError:
            raise BadQuery from None
    since, until = day(query.get("from")), day(query.get("to"))
    if since is not None and until is not None and until < since:
        raise BadQuery
    return LogFilters(event_type, app, since, until)


async def _newer(
    session: AsyncSession, school_id: uuid.UUID, where: EventFilter, after_seq: int
) -> list[AuditEvent]:
    """The page before (newer events), newest first: `find_events` reads only towards older events."""
    rows = await session.scalars(
        select(AuditEvent)
        .where(AuditEvent.school_id == school_id, AuditEvent.seq > after_seq, *where.conditions())
        .order_by(AuditEvent.seq)
        .limit(PAGE + 1)
    )
    return list(rows)


def _position(opened: Mapping[str, object]) -> tuple[str, int]:
    for direction in ("b", "a"):
        value = opened.get(direction)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return direction, value
    raise InvalidCursor


async def _log_page(
    session: AsyncSession, ring: Keyring, school_id: uuid.UUID, filters: LogFilters, cursor: str | None
) -> tuple[list[AuditEvent], str | None, str | None]:
    """A page of events (newest first) and the cursors of the older and the newer page, if any."""
    where = filters.where()
    key = await ring.secret(session, CURSOR_SECRET)
    made_for = {"s": str(school_id), "q": repr(where)}
    direction, seq = "", 0
    if cursor is not None:
        try:
            direction, seq = _position(open_cursor(key, cursor, kind=CURSOR_KIND, **made_for))
        except InvalidCursor:
            raise BadQuery from None
    if direction == "a":
        newer = await _newer(session, school_id, where, seq)
        has_newer = len(newer) > PAGE
        rows = list(reversed(newer[:PAGE]))
        has_older = True
    else:
        rows = await find_events(session, school_id, where, before_seq=seq or None, limit=PAGE + 1)
        has_older = len(rows) > PAGE
        rows = rows[:PAGE]
        has_newer = direction == "b"
    older = (
        seal_cursor(key, {"b": rows[-1].seq}, kind=CURSOR_KIND, **made_for) if rows and has_older else None
    )
    newer_cursor = (
        seal_cursor(key, {"a": rows[0].seq}, kind=CURSOR_KIND, **made_for) if rows and has_newer else None
    )
    return rows, older, newer_cursor


def _names_groups(rows: list[AuditEvent]) -> bool:
    return any('"group_ids":' in row.details for row in rows)


@router.get("/dashboard/log")
async def log_page(request: Request, session: SessionDep, ring: KeyringDep) -> Response:
    opened = await signed_in_school(request, session)
    if isinstance(opened, Response):
        return opened
    record, school_id = opened
    try:
        query = page_query(
            request,
            {
                "type": MAX_FILTER_LENGTH,
                "app": MAX_FILTER_LENGTH,
                "from": 10,
                "to": 10,
                "cursor": MAX_CURSOR_LENGTH,
            },
        )
        filters = _log_filters(query)
        rows, older, newer = await _log_page(session, ring, school_id, filters, query.get("cursor"))
    except BadQuery:
        return bad_query_page(request, record, "/dashboard/log")
    groups = await choices.group_names(session, ring, school_id) if _names_groups(rows) else {}
    names = await words.school_names(session, school_id, rows, groups)
    entries = [
        {
            "id": row.seq,
            "kind": row.event_type.replace(".", "-").replace("_", "-"),
            "label": words.event_label(row.event_type),
            "sentence": words.describe(row, names),
            "when": uk_time(row.occurred_at),
            "iso": iso_utc(row.occurred_at),
        }
        for row in rows
    ]
    return render(
        request,
        "dashboard_log.html",
        title="Authorisation log",
        wide=True,
        csrf_token=record.csrf_token,
        notice=None,
        problems=[],
        entries=entries,
        filters=filters,
        event_types=sorted(
            ((kind.value, words.event_label(kind.value)) for kind in EventType), key=lambda t: t[1]
        ),
        apps=await words.granted_apps(session, school_id),
        older=f"/dashboard/log?{filters.query(cursor=older)}" if older else None,
        newer=f"/dashboard/log?{filters.query(cursor=newer)}" if newer else None,
        filtered=bool(filters.query()),
    )


# --- Data accessed ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResourceReads:
    """One kind of data one app received: the fields (in words, by scope), records, responses, last read."""

    title: str
    fields: list[tuple[str, str, bool]]
    records: int
    responses: int
    last_read: str
    last_iso: str


@dataclass(frozen=True, slots=True)
class AppReads:
    name: str
    resources: list[ResourceReads]
    responses: int
    last_read: str


def _app_reads(totals: list[access_log.Reads], names: words.Names) -> list[AppReads]:
    by_app: dict[uuid.UUID, dict[str, list[access_log.Reads]]] = {}
    for row in totals:
        by_app.setdefault(row.app_id, {}).setdefault(row.resource, []).append(row)
    order = [*RESOURCES, "changes"]
    apps: list[tuple[datetime, AppReads]] = []
    for app_id, resources in by_app.items():
        shown = []
        for resource in sorted(resources, key=lambda r: (order.index(r) if r in order else len(order), r)):
            rows = resources[resource]
            last = max(row.last_at for row in rows)
            shown.append(
                ResourceReads(
                    title=words.resource_title(resource),
                    fields=words.fields_by_scope(resource, frozenset().union(*(row.fields for row in rows))),
                    records=sum(row.records for row in rows),
                    responses=sum(row.responses for row in rows),
                    last_read=uk_time(last),
                    last_iso=iso_utc(last),
                )
            )
        every = [row for rows in resources.values() for row in rows]
        last = max(row.last_at for row in every)
        name = names.apps.get(str(app_id)) or names.clients.get(every[0].client_id) or "An app since deleted"
        apps.append((last, AppReads(name, shown, sum(row.responses for row in every), uk_time(last))))
    return [reads for _last, reads in sorted(apps, key=lambda pair: pair[0], reverse=True)]


@router.get("/dashboard/data")
async def data_page(request: Request, session: SessionDep) -> Response:
    opened = await signed_in_school(request, session)
    if isinstance(opened, Response):
        return opened
    record, school_id = opened
    try:
        page_query(request, {})
    except BadQuery:
        return bad_query_page(request, record, "/dashboard/data")
    totals = await access_log.totals(session, school_id)
    names = await words.school_names(session, school_id)  # every app that read had a grant here
    return render(
        request,
        "dashboard_data.html",
        title="Data accessed",
        wide=True,
        csrf_token=record.csrf_token,
        notice=None,
        problems=[],
        apps=_app_reads(totals, names),
    )


# --- Ended connections ------------------------------------------------------------------------------------

MAX_ENDED: Final = 200


@dataclass(frozen=True, slots=True)
class Ended:
    """A connection that ended: the app, what it could see, who ended it and how, when it began and ended."""

    app: str
    scopes: list[str]
    who: str
    how: str
    started: str
    ended: str
    ended_iso: str


def _how(actor: str) -> str:
    kind = actor.partition(":")[0]
    return {
        "admin": "Revoked by an admin of the school",
        "api_key": "Revoked through the school's API",
        "app": "The app disconnected itself",
        "developer": "Ended when the developer deleted the app",
        "operator": "Ended by the gateway's operator",
        "system": "Ended by the gateway",
    }.get(kind, "Ended")


@router.get("/dashboard/ended")
async def ended_page(request: Request, session: SessionDep) -> Response:
    opened = await signed_in_school(request, session)
    if isinstance(opened, Response):
        return opened
    record, school_id = opened
    try:
        page_query(request, {})
    except BadQuery:
        return bad_query_page(request, record, "/dashboard/ended")
    rows = list(
        await session.scalars(
            select(Grant)
            .where(Grant.school_id == school_id, Grant.revoked_at.is_not(None))
            .order_by(Grant.revoked_at.desc(), Grant.id)
            .limit(MAX_ENDED + 1)
        )
    )
    names = await words.school_names(session, school_id)
    ended = [
        Ended(
            app=names.app(grant.app_id),
            scopes=[CATALOGUE[name].title for name in sort_scopes(grant.scope_set) if name in CATALOGUE],
            who=names.actor(grant.revoked_by or "system"),
            how=_how(grant.revoked_by or "system"),
            started=uk_time(grant.created_at),
            ended=uk_time(grant.revoked_at),
            ended_iso=iso_utc(grant.revoked_at),
        )
        for grant in rows[:MAX_ENDED]
        if grant.revoked_at is not None
    ]
    return render(
        request,
        "dashboard_ended.html",
        title="Ended connections",
        csrf_token=record.csrf_token,
        notice=None,
        problems=[],
        ended=ended,
        more=len(rows) > MAX_ENDED,
    )
