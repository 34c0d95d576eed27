"""A pupil's disclosures (issue 13, item 4): which apps can see which of their fields now, and which data
API responses carried them. Reads only; everything is the school's own.

**Who can see them now**: every live grant of the school whose audience holds the pupil today (the same
SQL rule the data API applies, `data_api.reader`) and whose scopes unlock a field about a pupil: the pupil
record itself, the per-pupil resources (attendance, results, exclusions, contact links) and a group's
`student_ids` (membership). The grant's scopes are the bound: an app's token may ask for fewer.

**Who received them**: the data-access log rows whose pupil set holds the pupil (`access_log.pupil_sets`),
newest first: the app, the grant, the resource, the field names and record count of that response.
Responses served before pupil sets were recorded (migration 0016) name no pupil and are not listed.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.access_log.models import DataAccess, DataAccessPupil
from gateway.apps.models import App
from gateway.consent.audience import Audience, academic_year_start
from gateway.consent.models import Grant, SensitiveApproval
from gateway.data_api.projection import RESOURCES, Kind
from gateway.data_api.reader import Reader
from gateway.http.cursors import CURSOR_SECRET, InvalidCursor, open_cursor, seal_cursor
from gateway.keys.keyring import Keyring
from gateway.mis.models import MisRecordRow
from gateway.scopes import CATALOGUE, allowed_fields, expand, sort_scopes

__all__ = [
    "MAX_PAGE",
    "CurrentAccess",
    "Disclosure",
    "DisclosurePage",
    "SensitiveApproved",
    "current_access",
    "disclosure_page",
    "disclosures",
    "pupil_fields",
    "student_known",
]

MAX_PAGE: Final = 500
_PUPIL_KINDS: Final = (Kind.STUDENTS, Kind.PER_STUDENT)


def pupil_fields(scopes: frozenset[str]) -> dict[str, frozenset[str]]:
    """Of the fields `scopes` unlock, those about one pupil, by resource: the pupil record, then the
    per-pupil resources in the data API's order, then groups (only their list of pupils)."""
    unlocked = allowed_fields(scopes)
    about = {
        name: unlocked[name]
        for kind in _PUPIL_KINDS
        for name, resource in RESOURCES.items()
        if resource.kind is kind and name in unlocked
    }
    if "student_ids" in unlocked.get("groups", frozenset()):
        about["groups"] = frozenset({"student_ids"})
    return about


@dataclass(frozen=True, slots=True)
class SensitiveApproved:
    scope: str
    admin_id: uuid.UUID | None
    approved_at: datetime


@dataclass(frozen=True, slots=True)
class CurrentAccess:
    """One app that can see the pupil now: through which grant, since when, which fields, approved by whom."""

    grant_id: uuid.UUID
    app_id: uuid.UUID
    client_id: str
    app_name: str
    since: datetime
    last_changed: datetime
    approved_by: uuid.UUID | None
    scopes: tuple[str, ...]  # the grant's scopes (implied ones included) that unlock a field of the pupil
    fields: Mapping[str, frozenset[str]]
    sensitive: tuple[SensitiveApproved, ...]


async def student_known(session: AsyncSession, school_id: uuid.UUID, student_id: str) -> bool:
    """Whether the school's MIS ever sent a pupil with this id (deleted ones included)."""
    found = await session.scalar(
        select(MisRecordRow.record_id).where(
            MisRecordRow.school_id == school_id,
            MisRecordRow.resource == "students",
            MisRecordRow.record_id == student_id,
        )
    )
    return found is not None


async def current_access(
    session: AsyncSession, keyring: Keyring, school_id: uuid.UUID, student_id: str, today: date
) -> list[CurrentAccess]:
    """The live grants through which an app can see the pupil today, oldest grant first."""
    rows = await session.execute(
        select(Grant, App.client_id, App.name)
        .join(App, App.id == Grant.app_id)
        .where(Grant.school_id == school_id, Grant.revoked_at.is_(None))
        .order_by(Grant.created_at, Grant.id)
    )
    reader = Reader(session, keyring, school_id)
    range_start = academic_year_start(today)
    found: list[CurrentAccess] = []
    for grant, client_id, app_name in rows.all():
        scopes = expand(grant.scope_set)
        fields = pupil_fields(scopes)
        if not fields:
            continue
        audience = Audience.of(grant)
        if await reader.one("students", Kind.STUDENTS, audience, range_start, student_id) is None:
            continue
        unlocking = tuple(
            name
            for name in sort_scopes(scopes)
            if any(
                names & fields.get(resource, frozenset())
                for resource, names in CATALOGUE[name].fields.items()
            )
        )
        found.append(
            CurrentAccess(
                grant_id=grant.id,
                app_id=grant.app_id,
                client_id=client_id,
                app_name=app_name,
                since=grant.created_at,
                last_changed=grant.updated_at,
                approved_by=grant.approved_by,
                scopes=unlocking,
                fields=fields,
                sensitive=await _sensitive(session, grant.id, unlocking),
            )
        )
    return found


async def _sensitive(
    session: AsyncSession, grant_id: uuid.UUID, scopes: tuple[str, ...]
) -> tuple[SensitiveApproved, ...]:
    sensitive = [name for name in scopes if CATALOGUE[name].sensitive]
    if not sensitive:
        return ()
    rows = await session.scalars(
        select(SensitiveApproval).where(
            SensitiveApproval.grant_id == grant_id, SensitiveApproval.scope.in_(sensitive)
        )
    )
    by_scope = {row.scope: row for row in rows}
    return tuple(
        SensitiveApproved(name, by_scope[name].admin_id, by_scope[name].approved_at)
        for name in sensitive
        if name in by_scope
    )


@dataclass(frozen=True, slots=True)
class Disclosure:
    """One data API response (one resource of it) that carried the pupil."""

    id: int
    occurred_at: datetime
    app_id: uuid.UUID
    client_id: str
    grant_id: uuid.UUID
    resource: str
    fields: frozenset[str]
    record_count: int
    request_id: str | None


async def disclosures(
    session: AsyncSession, school_id: uuid.UUID, student_id: str, *, before_id: int | None, limit: int
) -> list[Disclosure]:
    """The responses that carried the pupil, newest first, older than `before_id` (keyset)."""
    statement = (
        select(DataAccess)
        .join(
            DataAccessPupil,
            and_(
                DataAccessPupil.school_id == DataAccess.school_id,
                DataAccessPupil.digest == DataAccess.pupil_set,
            ),
        )
        .where(DataAccessPupil.school_id == school_id, DataAccessPupil.student_id == student_id)
    )
    if before_id is not None:
        statement = statement.where(DataAccess.id < before_id)
    rows = await session.scalars(statement.order_by(DataAccess.id.desc()).limit(limit))
    return [
        Disclosure(
            id=row.id,
            occurred_at=row.occurred_at,
            app_id=row.app_id,
            client_id=row.client_id,
            grant_id=row.grant_id,
            resource=row.resource,
            fields=frozenset(row.fields.split()),
            record_count=row.record_count,
            request_id=row.request_id,
        )
        for row in rows
    ]


@dataclass(frozen=True, slots=True)
class DisclosurePage:
    items: list[Disclosure]
    next_cursor: str | None  # opens only for this school, pupil and cursor kind; None on the last page


async def disclosure_page(
    session: AsyncSession,
    keyring: Keyring,
    school_id: uuid.UUID,
    student_id: str,
    *,
    cursor: str | None,
    limit: int,
    kind: str,
) -> DisclosurePage:
    """A page of `disclosures` after `cursor` (from a page before, of this `kind`); `InvalidCursor` if it
    is not one."""
    key = await keyring.secret(session, CURSOR_SECRET)
    made_for = {"s": str(school_id), "p": student_id}
    before: int | None = None
    if cursor is not None:
        position = open_cursor(key, cursor, kind=kind, **made_for).get("b")
        if not isinstance(position, int) or isinstance(position, bool):
            raise InvalidCursor
        before = position
    found = await disclosures(session, school_id, student_id, before_id=before, limit=limit + 1)
    if len(found) <= limit:
        return DisclosurePage(found, None)
    found = found[:limit]
    return DisclosurePage(found, seal_cursor(key, {"b": found[-1].id}, kind=kind, **made_for))
