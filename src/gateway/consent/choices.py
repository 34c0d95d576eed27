"""What a school admin can choose an audience from (SPEC §3.3): current groups and pupils on roll.

Decrypting a school's groups and pupils is the consent page's main cost, so callers ask only when the
page or the change needs them.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.keys.keyring import Keyring
from gateway.mis.reading import live_records

AUDIENCE_GROUP_TYPES: Final = ("year", "registration", "teaching")


@dataclass(frozen=True, slots=True)
class Choice:
    id: str
    label: str


def _current(record: dict[str, Any], today: date) -> bool:
    end = record.get("end_date")
    return end is None or date.fromisoformat(end) >= today


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that puts "Year 7" before "Year 10"."""
    parts = re.split(r"(\d+)", text)
    return tuple((0, int(part)) if part.isdigit() else (1, part.casefold()) for part in parts)


async def group_choices(
    session: AsyncSession, keyring: Keyring, school_id: uuid.UUID, today: date
) -> dict[str, list[Choice]]:
    """Current year, registration and teaching groups, by type, in natural order."""
    choices: dict[str, list[Choice]] = {kind: [] for kind in AUDIENCE_GROUP_TYPES}
    for group in await live_records(session, keyring, school_id, "groups"):
        if group.get("type") in choices and _current(group, today):
            name, code = group["name"], group.get("code")
            label = f"{name} ({code})" if code and code.casefold() not in name.casefold() else name
            choices[group["type"]].append(Choice(group["id"], label))
    for kind in choices:
        choices[kind].sort(key=lambda choice: _natural(choice.label))
    return choices


async def student_choices(
    session: AsyncSession, keyring: Keyring, school_id: uuid.UUID, today: date
) -> list[Choice]:
    """Pupils on roll, by last name then first name."""
    students = [s for s in await live_records(session, keyring, school_id, "students") if _current(s, today)]
    students.sort(key=lambda s: (s["last_name"].casefold(), s["first_name"].casefold(), s["id"]))
    return [
        Choice(
            s["id"],
            f"{s['last_name']}, {s['first_name']}"
            + (f" (year {s['year_code']})" if s.get("year_code") else ""),
        )
        for s in students
    ]


async def audience_choices(
    session: AsyncSession, keyring: Keyring, school_id: uuid.UUID, today: date
) -> tuple[dict[str, list[Choice]], list[Choice]]:
    """The consent page's choices: current year, registration and teaching groups; pupils on roll."""
    return (
        await group_choices(session, keyring, school_id, today),
        await student_choices(session, keyring, school_id, today),
    )


async def group_names(session: AsyncSession, keyring: Keyring, school_id: uuid.UUID) -> dict[str, str]:
    """Every live group's name by id, to say which groups a grant covers (a deleted group has none)."""
    return {group["id"]: group["name"] for group in await live_records(session, keyring, school_id, "groups")}


MAX_PUPIL_SEARCH_LENGTH = 100


def pupil_matches(label: str, search: str) -> bool:
    """Whether a pupil's label holds every word of `search`, in any case and order ("jo smi", "smith 7").

    The pupil pickers filter with this on the server (no JavaScript) and with the same rule in
    `web/static/pupil-search.js` as the admin types.
    """
    text = label.casefold()
    return all(word in text for word in search[:MAX_PUPIL_SEARCH_LENGTH].casefold().split())
