"""Find a pupil among the school's own, by name or UPN, for the pupil page (issue 13, item 4).

Names are sealed, so a search opens every live pupil of the school (as the consent page's picker does)
and matches in the process with `consent.choices.pupil_matches`: every word of the search, in any case and
order, in the pupil's names, year or UPN. Leavers are included: a subject access request may be about one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.consent.choices import pupil_matches
from gateway.data_api.reader import Reader
from gateway.keys.keyring import Keyring
from gateway.mis.reading import live_records

__all__ = ["MAX_RESULTS", "Found", "PupilName", "find", "named"]

MAX_RESULTS: Final = 50


@dataclass(frozen=True, slots=True)
class PupilName:
    """What the pupil page shows of a pupil: who they are to the school's admins."""

    id: str
    first_name: str
    last_name: str
    year_code: str | None
    upn: str | None
    former_upn: str | None  # searched, not shown
    left_on: date | None

    @classmethod
    def of(cls, record: dict[str, Any]) -> PupilName:
        end = record.get("end_date")
        return cls(
            id=str(record["id"]),
            first_name=str(record["first_name"]),
            last_name=str(record["last_name"]),
            year_code=record.get("year_code"),
            upn=record.get("upn"),
            former_upn=record.get("former_upn"),
            left_on=date.fromisoformat(end) if end else None,
        )

    @property
    def label(self) -> str:
        year = f" (year {self.year_code})" if self.year_code else ""
        return f"{self.last_name}, {self.first_name}{year}"

    def matches(self, search: str) -> bool:
        return pupil_matches(" ".join((self.label, self.upn or "", self.former_upn or "")), search)


@dataclass(frozen=True, slots=True)
class Found:
    pupils: list[PupilName]  # at most MAX_RESULTS, by last name then first name
    matched: int  # how many matched in all
    total: int  # the school's live pupils


async def find(session: AsyncSession, keyring: Keyring, school_id: uuid.UUID, search: str) -> Found:
    """The school's live pupils matching `search` (an empty search matches none)."""
    every = [PupilName.of(record) for record in await live_records(session, keyring, school_id, "students")]
    matched = [pupil for pupil in every if search.strip() and pupil.matches(search)]
    matched.sort(key=lambda p: (p.last_name.casefold(), p.first_name.casefold(), p.id))
    return Found(matched[:MAX_RESULTS], len(matched), len(every))


async def named(
    session: AsyncSession, keyring: Keyring, school_id: uuid.UUID, student_id: str
) -> PupilName | None:
    """The live pupil with this id at the school, or None (deleted from the MIS, or never sent)."""
    reader = Reader(session, keyring, school_id)
    rows = await reader.live_by_ids("students", [student_id])
    if not rows:
        return None
    (record,) = await reader.open("students", rows)
    return PupilName.of(record)
