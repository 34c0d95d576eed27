"""All SQL of the data API, for one school, and the one place its records are decrypted.

Built with the `school_id` of the token (STYLE: repositories are scoped to a tenant): no query here can
read another school's rows. The audience filter is applied in SQL where the clear columns allow it
(pupils, per-pupil records, staff leavers); contacts are linked to pupils only inside the sealed
`student_contacts` records, so that link map is decrypted once per school and change number and cached.
"""

from __future__ import annotations

import functools
import uuid
from collections import OrderedDict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, NamedTuple

from sqlalchemy import ColumnElement, Select, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.consent.audience import Audience
from gateway.data_api.audience_filter import (
    RANGE_START,
    SCHOOL,
    AudienceShape,
)
from gateway.data_api.projection import Kind
from gateway.keys.keyring import Keyring
from gateway.mis.models import MisRecordRow
from gateway.mis.reading import open_rows
from gateway.schools.models import School

__all__ = ["ContactLinks", "Reader", "Stored"]

_ID_CHUNK: Final = 900  # below SQLite's bound-parameter limit, with room for the other parameters
_LINK_CACHE_SCHOOLS: Final = 64


class Stored(NamedTuple):
    record_id: str
    key_id: uuid.UUID | None
    sealed: bytes | None
    student_id: str | None
    end_date: date | None
    change_seq: int
    updated_at: datetime
    deleted_at: datetime | None


_COLUMNS = (
    MisRecordRow.record_id,
    MisRecordRow.key_id,
    MisRecordRow.sealed,
    MisRecordRow.student_id,
    MisRecordRow.end_date,
    MisRecordRow.change_seq,
    MisRecordRow.updated_at,
    MisRecordRow.deleted_at,
)


def _staff_visible(range_start: Any) -> ColumnElement[bool]:
    """Staff are listed unless they left before the range (a date, or its bound parameter)."""
    return or_(MisRecordRow.end_date.is_(None), MisRecordRow.end_date >= range_start)


def _visible(kind: Kind, shape: AudienceShape) -> ColumnElement[bool] | None:
    """Which rows of a resource of `kind` the audience sees (`audience_filter` holds the rule), with the
    school, range start and audience as bound parameters (`AudienceShape.parameters`)."""
    if kind is Kind.STUDENTS:
        return shape.visible_students(MisRecordRow.__table__)
    if kind is Kind.PER_STUDENT:
        return MisRecordRow.student_id.in_(shape.visible_student_ids())
    if kind is Kind.STAFF:
        return _staff_visible(RANGE_START)
    return None


def _live_visible(kind: Kind, shape: AudienceShape) -> Select[*tuple[Any, ...]]:
    """The live rows of one resource (`resource` parameter) of the school the audience sees."""
    statement = select(*_COLUMNS).where(
        MisRecordRow.school_id == SCHOOL,
        MisRecordRow.resource == bindparam("resource"),
        MisRecordRow.deleted_at.is_(None),
    )
    condition = _visible(kind, shape)
    return statement if condition is None else statement.where(condition)


@functools.cache
def _page_statement(
    kind: Kind, shape: AudienceShape, after: bool, updated_since: bool
) -> Select[*tuple[Any, ...]]:
    """`Reader.page`'s statement for one shape of request, with every value a bound parameter: built
    (and its cache key computed) once, not per request."""
    statement = _live_visible(kind, shape)
    if after:
        statement = statement.where(MisRecordRow.record_id > bindparam("after"))
    if updated_since:
        statement = statement.where(MisRecordRow.updated_at >= bindparam("updated_since"))
    return statement.order_by(MisRecordRow.record_id).limit(bindparam("limit"))


@functools.cache
def _ids_statement(shape: AudienceShape) -> Select[str]:
    """`Reader.visible_student_ids`'s statement for one shape of audience."""
    return shape.visible_student_ids()


@functools.cache
def _one_statement(kind: Kind, shape: AudienceShape) -> Select[*tuple[Any, ...]]:
    """`Reader.one`'s statement for one shape of request (`record_id` parameter)."""
    return _live_visible(kind, shape).where(MisRecordRow.record_id == bindparam("record_id"))


@dataclass(frozen=True, slots=True)
class ContactLinks:
    """From the live `student_contacts` records: contact id -> the pupils it is linked to."""

    pupils_of_contact: dict[str, frozenset[str]]

    def visible_contacts(self, pupils: Collection[str]) -> set[str]:
        return {
            contact for contact, linked in self.pupils_of_contact.items() if not linked.isdisjoint(pupils)
        }


# school id -> (change number the map was read at or after, the map). Derived from MIS data only; the
# grant is never cached, so this cannot delay a revocation or a narrowing.
_links_cache: OrderedDict[uuid.UUID, tuple[int, ContactLinks]] = OrderedDict()


class Reader:
    def __init__(self, session: AsyncSession, keyring: Keyring, school_id: uuid.UUID) -> None:
        self.session = session
        self.keyring = keyring
        self.school_id = school_id

    # --- Plaintext ------------------------------------------------------------------------------------

    async def open(self, resource: str, rows: Sequence[Stored]) -> list[dict[str, Any]]:
        """Each live row's fields, in order (the rows must be live)."""
        return await open_rows(self.session, self.keyring, self.school_id, resource, rows)

    # --- Positions ------------------------------------------------------------------------------------

    async def change_seq(self) -> int:
        """The school's last change number (every MIS write takes the next ones, in commit order)."""
        value = await self.session.scalar(select(School.change_seq).where(School.id == self.school_id))
        return int(value or 0)

    # --- Pages ----------------------------------------------------------------------------------------

    def _live(self, resource: str) -> Select[*tuple[Any, ...]]:
        return select(*_COLUMNS).where(
            MisRecordRow.school_id == self.school_id,
            MisRecordRow.resource == resource,
            MisRecordRow.deleted_at.is_(None),
        )

    async def page(
        self,
        resource: str,
        kind: Kind,
        audience: Audience,
        range_start: date,
        *,
        after: str | None,
        limit: int,
        updated_since: datetime | None,
    ) -> list[Stored]:
        """Up to `limit` visible live records after `after`, in record-id order (not for contacts).

        The statement is built once per shape (`_page_statement`); this request's values are parameters."""
        shape = AudienceShape.of(audience)
        statement = _page_statement(kind, shape, after is not None, updated_since is not None)
        parameters = {
            **AudienceShape.parameters(self.school_id, audience, range_start),
            "resource": resource,
            "after": after,
            "updated_since": updated_since,
            "limit": limit,
        }
        rows = await self.session.execute(statement, parameters)
        return [Stored(*row) for row in rows]

    async def one(
        self, resource: str, kind: Kind, audience: Audience, range_start: date, record_id: str
    ) -> Stored | None:
        """One visible live record by id (contacts: the caller checks the link)."""
        statement = _one_statement(kind, AudienceShape.of(audience))
        parameters = {
            **AudienceShape.parameters(self.school_id, audience, range_start),
            "resource": resource,
            "record_id": record_id,
        }
        row = (await self.session.execute(statement, parameters)).first()
        return None if row is None else Stored(*row)

    async def live_by_ids(
        self, resource: str, record_ids: Iterable[str], *, updated_since: datetime | None = None
    ) -> list[Stored]:
        """The live records among `record_ids`, in record-id order."""
        wanted = sorted(set(record_ids))
        found: list[Stored] = []
        for start in range(0, len(wanted), _ID_CHUNK):
            statement = self._live(resource).where(
                MisRecordRow.record_id.in_(wanted[start : start + _ID_CHUNK])
            )
            if updated_since is not None:
                statement = statement.where(MisRecordRow.updated_at >= updated_since)
            found.extend(Stored(*row) for row in await self.session.execute(statement))
        return sorted(found, key=lambda row: row.record_id)

    async def live_of_students(self, resource: str, student_ids: Iterable[str]) -> list[Stored]:
        """Every live record of a per-pupil resource belonging to the given pupils."""
        wanted = sorted(set(student_ids))
        found: list[Stored] = []
        for start in range(0, len(wanted), _ID_CHUNK):
            statement = self._live(resource).where(
                MisRecordRow.student_id.in_(wanted[start : start + _ID_CHUNK])
            )
            found.extend(Stored(*row) for row in await self.session.execute(statement))
        return sorted(found, key=lambda row: row.record_id)

    async def all_live(self, resource: str) -> list[Stored]:
        rows = await self.session.execute(self._live(resource).order_by(MisRecordRow.record_id))
        return [Stored(*row) for row in rows]

    async def changed(self, resource: str, after_seq: int, upto_seq: int, limit: int) -> list[Stored]:
        """Records (live or deleted) whose last change is in (after_seq, upto_seq], by change number."""
        statement = (
            select(*_COLUMNS)
            .where(
                MisRecordRow.school_id == self.school_id,
                MisRecordRow.resource == resource,
                MisRecordRow.change_seq > after_seq,
                MisRecordRow.change_seq <= upto_seq,
            )
            .order_by(MisRecordRow.change_seq)
            .limit(limit)
        )
        return [Stored(*row) for row in await self.session.execute(statement)]

    # --- The audience -----------------------------------------------------------------------------------

    async def visible_student_ids(self, audience: Audience, range_start: date) -> frozenset[str]:
        statement = _ids_statement(AudienceShape.of(audience))
        parameters = AudienceShape.parameters(self.school_id, audience, range_start)
        return frozenset(await self.session.scalars(statement, parameters))

    async def contact_links(self, change_seq: int) -> ContactLinks:
        """The pupil-contact link map as of `change_seq` or later (cached per school and change)."""
        cached = _links_cache.get(self.school_id)
        if cached is not None and cached[0] == change_seq:
            _links_cache.move_to_end(self.school_id)
            return cached[1]
        rows = await self.all_live("student_contacts")
        pupils: dict[str, set[str]] = {}
        for link in await self.open("student_contacts", rows):
            pupils.setdefault(str(link["contact_id"]), set()).add(str(link["student_id"]))
        links = ContactLinks({contact: frozenset(linked) for contact, linked in pupils.items()})
        _links_cache[self.school_id] = (change_seq, links)
        _links_cache.move_to_end(self.school_id)
        while len(_links_cache) > _LINK_CACHE_SCHOOLS:
            _links_cache.popitem(last=False)
        return links
