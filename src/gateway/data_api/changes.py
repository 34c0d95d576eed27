"""The changes feed (`GET /api/v1/changes`): all that changed for this app, so it can keep an exact copy.

**What an app's copy should be.** The view V is every record the app may see now (see `audience`),
projected to its fields. Records enter or leave V in two ways:

1. Their own row changes (upsert, delete, a pupil's `end_date`, a link re-pointed): every MIS write gives
   the row the school's next change number, so these are found by change number.
2. Their row does not change, but whether they are visible does: a pupil moved into or out of a granted
   group, the school narrowed the audience, a contact's last link to a visible pupil went, and with a
   pupil go their attendance, results, exclusions, summaries and contact links.

**How the feed finds both.** A cursor carries the change number reached `n`, a fingerprint `f` of the
effective scopes and the audience range (the academic year), and the digest `d` of a snapshot: the set of
pupil ids and contact ids visible when the cursor was made (stored content-addressed per school in
`data_api_audience_snapshots`; ids only). Each call:

- reads the school's change number `upto` first (writes take change numbers in commit order under the
  school's row lock, so everything up to `upto` is committed and anything later is replayed next time);
- computes the visible pupils and contacts now; if they differ from the snapshot `d`, **reconciles**:
  a tombstone `left_audience` for each pupil or contact that left (and each live per-pupil record of a pupil
  who left), an upsert for each that entered (with all their per-pupil records), and every group again
  (its `student_ids` are cut to the audience);
- sends, in change-number order, the rows changed in (n, upto], at most `limit`: an upsert when visible now,
  else a tombstone (`deleted` for deleted rows, `left_audience` for rows the app may no longer see).

Replaying an upsert or a tombstone twice is harmless, so the feed may repeat itself, never miss.
**Resync**: when the fingerprint changed (scopes narrowed or widened, a new academic year), the snapshot is
no longer stored (older than `SNAPSHOT_RETENTION` unused), or more than `RECONCILE_MAX_PUPILS` pupils entered
or left at once, the feed answers one event `{"resync": true, "reason": …}` and a cursor that starts again
from the beginning: the app drops its copy and reads the feed to the end again. Scope changes need this
anyway (fields appear or vanish in every record); big audience changes would otherwise make one huge page.

A call without a cursor starts from the beginning: the feed is also the way to take the first full copy.
"""

from __future__ import annotations

import hashlib
import json
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.access_log.service import Delivery
from gateway.consent.audience import in_range
from gateway.data_api.models import AudienceSnapshot
from gateway.data_api.projection import RESOURCES, Kind, project
from gateway.data_api.reader import Reader, Stored
from gateway.data_api.service import Access, carried_pupils, log_access
from gateway.db.base import utcnow
from gateway.http.cursors import CURSOR_SECRET, InvalidCursor, cursor_refused, open_cursor, seal_cursor
from gateway.keys.keyring import Keyring

__all__ = ["RECONCILE_MAX_PUPILS", "SNAPSHOT_RETENTION", "Feed", "Visible", "read_changes"]

SNAPSHOT_RETENTION: Final = timedelta(days=30)
_SNAPSHOT_TOUCH: Final = timedelta(days=1)
RECONCILE_MAX_PUPILS: Final = 50

DELETED: Final = "deleted"
LEFT_AUDIENCE: Final = "left_audience"


@dataclass(frozen=True, slots=True)
class Visible:
    """The pupils and contacts an app may see: what a snapshot holds."""

    students: frozenset[str]
    contacts: frozenset[str]

    def content(self) -> bytes:
        return json.dumps(
            {"contacts": sorted(self.contacts), "students": sorted(self.students)}, separators=(",", ":")
        ).encode()

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.content()).hexdigest()

    @classmethod
    def from_content(cls, content: bytes) -> Visible:
        value = json.loads(content)
        return cls(frozenset(value["students"]), frozenset(value["contacts"]))


@dataclass
class Feed:
    events: list[dict[str, Any]]
    next_cursor: str
    has_more: bool


@dataclass
class _Sent:
    """What the page sent of one resource: field names, events, and the pupils its upserts were about."""

    fields: set[str] = field(default_factory=set)
    count: int = 0
    pupils: set[str] = field(default_factory=set)


def fingerprint(access: Access) -> str:
    text = " ".join(sorted(access.token.scopes)) + "|" + access.range_start.isoformat()
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class _Builder:
    """Collects events and what they delivered, per resource (for the access log)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.delivered: dict[str, _Sent] = {}

    def _count(self, resource: str, names: set[str] | frozenset[str]) -> _Sent:
        sent = self.delivered.setdefault(resource, _Sent())
        sent.fields.update(names)
        sent.count += 1
        return sent

    def upsert(self, resource: str, row: Stored, record: dict[str, Any]) -> None:
        sent = self._count(resource, {name for name in record if name != "updated_at"})
        sent.pupils.update(carried_pupils(RESOURCES[resource].kind, [row], [record]))
        self.events.append(
            {
                "resource": resource,
                "id": row.record_id,
                "deleted": False,
                "change_seq": row.change_seq,
                "record": record,
            }
        )

    def tombstone(self, resource: str, record_id: str, reason: str) -> None:
        """An id only (deleted, or no longer visible): it carries nothing about a pupil, so names none."""
        self._count(resource, {"id"})
        self.events.append({"resource": resource, "id": record_id, "deleted": True, "reason": reason})


class _Feed:
    def __init__(self, session: AsyncSession, keyring: Keyring, access: Access) -> None:
        self.session = session
        self.access = access
        self.school_id = access.token.school_id
        self.reader = Reader(session, keyring, self.school_id)
        self.fields = access.fields
        self.out = _Builder()

    def granted(self, kind: Kind) -> list[str]:
        return [name for name, resource in RESOURCES.items() if resource.kind is kind and name in self.fields]

    async def visible(self, change_seq: int) -> Visible:
        students = await self.reader.visible_student_ids(self.access.audience, self.access.range_start)
        contacts: frozenset[str] = frozenset()
        if "contacts" in self.fields:
            links = await self.reader.contact_links(change_seq)
            contacts = frozenset(links.visible_contacts(students))
        return Visible(students, contacts)

    async def emit_live(self, resource: str, rows: list[Stored], visible: Visible) -> None:
        fields = self.fields[resource]
        for row, record in zip(rows, await self.reader.open(resource, rows), strict=True):
            projected = project(record, resource, fields, visible.students)
            projected["updated_at"] = row.updated_at.isoformat()
            self.out.upsert(resource, row, projected)

    # --- Reconciliation (rows unchanged, visibility changed) -------------------------------------------

    async def reconcile(self, before: Visible, now: Visible) -> None:
        left, entered = before.students - now.students, now.students - before.students
        if "students" in self.fields:
            for pupil in sorted(left):
                self.out.tombstone("students", pupil, LEFT_AUDIENCE)
            await self.emit_live("students", await self.reader.live_by_ids("students", entered), now)
        for resource in self.granted(Kind.PER_STUDENT):
            for row in await self.reader.live_of_students(resource, left):
                self.out.tombstone(resource, row.record_id, LEFT_AUDIENCE)
            await self.emit_live(resource, await self.reader.live_of_students(resource, entered), now)
        if "contacts" in self.fields:
            for contact in sorted(before.contacts - now.contacts):
                self.out.tombstone("contacts", contact, LEFT_AUDIENCE)
            entered_contacts = now.contacts - before.contacts
            await self.emit_live("contacts", await self.reader.live_by_ids("contacts", entered_contacts), now)
        if (left or entered) and "groups" in self.fields:
            await self.emit_live("groups", await self.reader.all_live("groups"), now)

    # --- Rows changed since the cursor ---------------------------------------------------------------

    def is_visible(self, resource: str, row: Stored, now: Visible) -> bool:
        kind = RESOURCES[resource].kind
        if kind is Kind.STUDENTS:
            return row.record_id in now.students
        if kind is Kind.PER_STUDENT:
            return row.student_id in now.students
        if kind is Kind.CONTACTS:
            return row.record_id in now.contacts
        if kind is Kind.STAFF:
            return in_range(row.end_date, self.access.range_start)
        return True

    async def changed(self, after: int, upto: int, limit: int, now: Visible) -> tuple[int, bool]:
        """Emit rows changed in (after, upto], at most `limit`; the change number reached, and if more."""
        candidates: list[tuple[str, Stored]] = []
        for resource in self.fields:
            candidates.extend(
                (resource, row) for row in await self.reader.changed(resource, after, upto, limit + 1)
            )
        candidates.sort(key=lambda item: item[1].change_seq)
        more = len(candidates) > limit
        taken = candidates[:limit]
        live: dict[str, list[Stored]] = {}
        order: list[tuple[str, Stored, bool]] = []
        for resource, row in taken:
            show = row.deleted_at is None and self.is_visible(resource, row, now)
            order.append((resource, row, show))
            if show:
                live.setdefault(resource, []).append(row)
        opened: dict[tuple[str, str], dict[str, Any]] = {}
        for resource, rows in live.items():
            for row, record in zip(rows, await self.reader.open(resource, rows), strict=True):
                opened[(resource, row.record_id)] = record
        for resource, row, show in order:
            if show:
                projected = project(
                    opened[(resource, row.record_id)], resource, self.fields[resource], now.students
                )
                projected["updated_at"] = row.updated_at.isoformat()
                self.out.upsert(resource, row, projected)
            else:
                self.out.tombstone(
                    resource, row.record_id, DELETED if row.deleted_at is not None else LEFT_AUDIENCE
                )
        reached = taken[-1][1].change_seq if more else upto
        return reached, more


# --- Snapshots ---------------------------------------------------------------------------------------


async def _load_snapshot(session: AsyncSession, school_id: uuid.UUID, digest: str) -> Visible | None:
    row = await session.get(AudienceSnapshot, (school_id, digest))
    if row is None:
        return None
    return Visible.from_content(zlib.decompress(row.content))


async def _keep_snapshot(session: AsyncSession, school_id: uuid.UUID, visible: Visible) -> str:
    """Store the snapshot if new (or mark it used), pruning the school's unused ones; its digest."""
    digest = visible.digest
    now = utcnow()
    existing = await session.scalar(
        select(AudienceSnapshot.created_at).where(
            AudienceSnapshot.school_id == school_id, AudienceSnapshot.digest == digest
        )
    )
    if existing is not None:
        if now - existing > _SNAPSHOT_TOUCH:
            await session.execute(
                update(AudienceSnapshot)
                .where(AudienceSnapshot.school_id == school_id, AudienceSnapshot.digest == digest)
                .values(created_at=now)
            )
        return digest
    await session.execute(
        delete(AudienceSnapshot).where(
            AudienceSnapshot.school_id == school_id, AudienceSnapshot.created_at < now - SNAPSHOT_RETENTION
        )
    )
    try:
        async with session.begin_nested():
            session.add(
                AudienceSnapshot(
                    school_id=school_id,
                    digest=digest,
                    content=zlib.compress(visible.content()),
                    created_at=now,
                )
            )
    except IntegrityError:  # another request stored the same snapshot first
        pass
    return digest


# --- The feed ----------------------------------------------------------------------------------------


async def read_changes(
    session: AsyncSession,
    keyring: Keyring,
    access: Access,
    *,
    cursor: str | None,
    limit: int,
    request_id: str | None,
) -> Feed:
    token = access.token
    key = await keyring.secret(session, CURSOR_SECRET)
    ids = {"s": str(token.school_id), "g": str(token.grant_id)}
    position: Mapping[str, Any] | None = None
    if cursor is not None:
        try:
            position = open_cursor(key, cursor, kind="changes", **ids)
        except InvalidCursor:
            raise cursor_refused(" for this query") from None
        if not isinstance(position.get("n"), int) or not isinstance(position.get("d"), str):
            raise cursor_refused(" for this query")

    feed = _Feed(session, keyring, access)
    upto = await feed.reader.change_seq()  # first: see the module docstring
    now = await feed.visible(upto)
    digest = await _keep_snapshot(session, token.school_id, now)
    current = fingerprint(access)

    def next_cursor(reached: int) -> str:
        return seal_cursor(key, {"n": reached, "f": current, "d": digest}, kind="changes", **ids)

    after = 0
    if position is not None:
        after = int(position["n"])
        reason: str | None = None
        if position.get("f") != current:
            reason = "grant_changed"
        elif position["d"] != digest:
            before = await _load_snapshot(session, token.school_id, str(position["d"]))
            if before is None:
                reason = "cursor_expired"
            elif len(before.students ^ now.students) > RECONCILE_MAX_PUPILS:
                reason = "audience_changed"
            else:
                await feed.reconcile(before, now)
        if reason is not None:
            feed.out.events = [{"resync": True, "reason": reason}]
            feed.out.delivered = {}
            await _log(session, access, feed.out, request_id)
            return Feed(feed.out.events, next_cursor(0), True)

    reached, more = await feed.changed(after, upto, limit, now)
    await _log(session, access, feed.out, request_id)
    return Feed(feed.out.events, next_cursor(reached), more)


async def _log(session: AsyncSession, access: Access, out: _Builder, request_id: str | None) -> None:
    deliveries = [
        Delivery(resource, frozenset(sent.fields), sent.count, frozenset(sent.pupils))
        for resource, sent in out.delivered.items()
    ]
    await log_access(session, access, deliveries or [Delivery("changes", frozenset(), 0)], request_id)
