"""Listing and reading records for a school token (SPEC §3.5): audience, projection, pages, ETags, logging.

One request costs: the token check (one query, in `oauth.bearer`, which also reads the school's change
number, the ETag's input), one query for the page (audience filter in SQL), decrypting
only the records returned, and one insert into the access log (with one more that finds the set of pupils
the page carried already stored, or stores it: `access_log.pupil_sets`).

ETags are weak (`W/"…"`): a hash of the school's change number, the grant's scopes and audience, the
token's scopes, the audience range (academic year), the resource and the request's query. Any write to
the school's MIS data, any change to the grant and any new academic year changes them, so a 304 is never
stale. A 304 sends no records and is not logged as a data access.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.access_log import service as access_log
from gateway.consent.audience import Audience, academic_year_start
from gateway.data_api.projection import RESOURCES, Kind, granted_fields, project
from gateway.data_api.reader import Reader, Stored
from gateway.errors import NotFound
from gateway.http.cursors import CURSOR_SECRET, InvalidCursor, cursor_refused, open_cursor, seal_cursor
from gateway.keys.keyring import Keyring
from gateway.oauth.bearer import InsufficientScope, SchoolToken
from gateway.scopes import CATALOGUE, sort_scopes

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "Access",
    "NotModified",
    "RecordPage",
    "carried_pupils",
    "list_records",
    "read_record",
]

DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 1500


@dataclass(frozen=True, slots=True)
class Access:
    """What this request may see: the token's effective fields and the grant's audience, as of today."""

    token: SchoolToken
    fields: Mapping[str, frozenset[str]]
    audience: Audience
    range_start: date  # pupils who left before this day are not shown (`consent.audience`)

    @classmethod
    def of(cls, token: SchoolToken, today: date) -> Access:
        return cls(
            token=token,
            fields=granted_fields(token.scopes),
            audience=Audience.of(token.grant),
            range_start=academic_year_start(today),
        )

    def fields_of(self, resource: str) -> frozenset[str]:
        """The resource's granted fields, or 403 `insufficient_scope` naming the scopes that would do."""
        fields = self.fields.get(resource)
        if fields:
            return fields
        needed = sort_scopes(name for name, scope in CATALOGUE.items() if resource in scope.fields)
        raise InsufficientScope(
            f"The grant does not cover this resource. It needs one of these scopes: {', '.join(needed)}."
        )

    def version_key(self) -> str:
        grant = self.token.grant
        return "|".join(
            (
                str(self.token.school_id),
                str(grant.id),
                grant.scopes,
                " ".join(sorted(self.token.scopes)),
                self.audience.key(self.range_start),
            )
        )


class NotModified(Exception):
    """The client's `If-None-Match` matches: answer 304 with this ETag."""

    def __init__(self, etag: str) -> None:
        super().__init__(etag)
        self.etag = etag


@dataclass(frozen=True, slots=True)
class RecordPage:
    records: list[dict[str, Any]]
    next_cursor: str | None
    etag: str


def make_etag(access: Access, change_seq: int, request_key: str) -> str:
    digest = hashlib.sha256(f"{access.version_key()}|{change_seq}|{request_key}".encode()).hexdigest()
    return f'W/"{digest[:32]}"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 §13.1.2: weak comparison; `*` matches any current representation."""
    if if_none_match is None:
        return False
    opaque = etag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == opaque:
            return True
    return False


def _out(
    record: Mapping[str, Any],
    resource: str,
    fields: frozenset[str],
    row: Stored,
    visible: frozenset[str] | None,
) -> dict[str, Any]:
    projected = project(record, resource, fields, visible)
    projected["updated_at"] = row.updated_at.isoformat()
    return projected


def carried_pupils(
    kind: Kind, rows: Sequence[Stored], records: Sequence[Mapping[str, Any]]
) -> frozenset[str]:
    """The pupils records sent are about: each pupil record's pupil, the pupil of each per-pupil record
    (attendance, results, exclusions, contact links: whatever fields were sent), and each pupil a group's
    `student_ids` names (membership is data about them). Contacts, staff, assessments and the school's own
    records are about no pupil. The pupil page's "which responses included this pupil" reads this."""
    if kind is Kind.STUDENTS:
        return frozenset(row.record_id for row in rows)
    if kind is Kind.PER_STUDENT:
        return frozenset(row.student_id for row in rows if row.student_id is not None)
    if kind is Kind.GROUPS:
        return frozenset(pupil for record in records for pupil in record.get("student_ids") or ())
    return frozenset()


def delivered(
    resource: str, records: Sequence[Mapping[str, Any]], pupils: frozenset[str] = frozenset()
) -> access_log.Delivery:
    """What a response sent of a resource: the field names present (metadata aside), the count and the
    pupils the records are about (`carried_pupils`)."""
    present: set[str] = set()
    for record in records:
        present.update(record)
    present.discard("updated_at")
    return access_log.Delivery(resource, frozenset(present), len(records), pupils)


async def log_access(
    session: AsyncSession, access: Access, deliveries: Sequence[access_log.Delivery], request_id: str | None
) -> None:
    token = access.token
    await access_log.record(
        session,
        school_id=token.school_id,
        app_id=token.app_id,
        client_id=token.client_id,
        grant_id=token.grant_id,
        deliveries=deliveries,
        request_id=request_id,
    )


async def list_records(
    session: AsyncSession,
    keyring: Keyring,
    access: Access,
    resource_name: str,
    *,
    limit: int,
    cursor: str | None,
    updated_since: datetime | None,
    if_none_match: str | None,
    request_id: str | None,
) -> RecordPage:
    """One page of a resource, or `NotModified`; 403 for an ungranted resource, 400 for a bad cursor."""
    resource = RESOURCES[resource_name]
    fields = access.fields_of(resource.name)
    token = access.token
    since_key = updated_since.isoformat() if updated_since is not None else ""
    key = await keyring.secret(session, CURSOR_SECRET)
    made_for = {"r": resource.name, "s": str(token.school_id), "g": str(token.grant_id), "q": since_key}
    after: str | None = None
    if cursor is not None:
        try:
            after = open_cursor(key, cursor, kind="list", **made_for).get("a")
        except InvalidCursor:
            raise cursor_refused(" for this query") from None
        if not isinstance(after, str):
            raise cursor_refused(" for this query")

    reader = Reader(session, keyring, token.school_id)
    change_seq = access.token.change_seq  # read with the live grant, before any record
    etag = make_etag(access, change_seq, f"list|{resource.name}|{limit}|{cursor or ''}|{since_key}")
    if matches(if_none_match, etag):
        raise NotModified(etag)

    visible: frozenset[str] | None = None
    if resource.kind is Kind.CONTACTS:
        visible = await reader.visible_student_ids(access.audience, access.range_start)
        links = await reader.contact_links(change_seq)
        candidates = sorted(links.visible_contacts(visible))
        if after is not None:
            candidates = [contact for contact in candidates if contact > after]
        window = candidates[:limit]
        rows = await reader.live_by_ids(resource.name, window, updated_since=updated_since)
        last = window[-1] if len(candidates) > limit else None
    else:
        rows = await reader.page(
            resource.name,
            resource.kind,
            access.audience,
            access.range_start,
            after=after,
            limit=limit + 1,
            updated_since=updated_since,
        )
        last = rows[limit - 1].record_id if len(rows) > limit else None
        rows = rows[:limit]
        if resource.kind is Kind.GROUPS and "student_ids" in fields:
            visible = await reader.visible_student_ids(access.audience, access.range_start)

    opened = await reader.open(resource.name, rows)
    records = [
        _out(record, resource.name, fields, row, visible) for record, row in zip(opened, rows, strict=True)
    ]
    next_cursor = None if last is None else seal_cursor(key, {"a": last}, kind="list", **made_for)
    pupils = carried_pupils(resource.kind, rows, records)
    await log_access(session, access, [delivered(resource.name, records, pupils)], request_id)
    return RecordPage(records, next_cursor, etag)


async def read_record(
    session: AsyncSession,
    keyring: Keyring,
    access: Access,
    resource_name: str,
    record_id: str | None,
    *,
    if_none_match: str | None,
    request_id: str | None,
) -> tuple[dict[str, Any], str]:
    """One visible record (`record_id` None: the first, for the school itself) and its ETag, or 404."""
    resource = RESOURCES[resource_name]
    fields = access.fields_of(resource.name)
    reader = Reader(session, keyring, access.token.school_id)
    change_seq = access.token.change_seq  # read with the live grant, before any record
    etag = make_etag(access, change_seq, f"one|{resource.name}|{record_id or ''}")
    if matches(if_none_match, etag):
        raise NotModified(etag)

    row: Stored | None
    visible: frozenset[str] | None = None
    if record_id is None:
        rows = await reader.page(
            resource.name,
            resource.kind,
            access.audience,
            access.range_start,
            after=None,
            limit=1,
            updated_since=None,
        )
        row = rows[0] if rows else None
    elif resource.kind is Kind.CONTACTS:
        visible = await reader.visible_student_ids(access.audience, access.range_start)
        links = await reader.contact_links(change_seq)
        linked = links.pupils_of_contact.get(record_id, frozenset())
        row = await reader.one(resource.name, resource.kind, access.audience, access.range_start, record_id)
        if linked.isdisjoint(visible):
            row = None
    else:
        row = await reader.one(resource.name, resource.kind, access.audience, access.range_start, record_id)
    if row is None:
        raise NotFound(f"No {resource.title.lower()} record with this id is visible to this app.")
    if resource.kind is Kind.GROUPS and "student_ids" in fields:
        visible = await reader.visible_student_ids(access.audience, access.range_start)
    (opened,) = await reader.open(resource.name, [row])
    record = _out(opened, resource.name, fields, row, visible)
    pupils = carried_pupils(resource.kind, [row], [record])
    await log_access(session, access, [delivered(resource.name, [record], pupils)], request_id)
    return record, etag
