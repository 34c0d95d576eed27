"""Who a grant covers (SPEC §3.3, §3.5): the one reading of `Grant.audience`, and who is in it (pure).

A grant's audience is the whole school or chosen year, registration and teaching groups, minus excluded
pupils. `Grant.audience` stores it as JSON: null for the whole school, else
{"groups": [ids] | null, "exclude": [student ids]}. `Audience.of` is the only parser of that JSON and
`Audience.stored` its only writer, so the consent page, the grants API, the app API and the data API all
read the same audience from a grant.

A pupil is in the audience on a given day when all of these hold:

- their student record is live (not deleted);
- the grant names no groups, or they are a student member of one of the named groups;
- they are not excluded by the grant;
- they have not left, or left within the range: `end_date` is empty or on or after the first day of the
  current academic year (1 September). So an app still sees this year's leavers (for registers and
  reports made this year) and never a pupil who left in an earlier year.

The data API applies the same rule in SQL (`data_api.audience_filter`).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Protocol

__all__ = ["Audience", "HasAudience", "academic_year_start", "audience_json", "in_range"]

_AUDIT_GROUP_IDS: Final = 50


class HasAudience(Protocol):
    audience_json: str | None


def academic_year_start(today: date) -> date:
    """1 September of the academic year `today` falls in (English schools' years run September-August)."""
    return date(today.year if today.month >= 9 else today.year - 1, 9, 1)


def in_range(end_date: date | None, range_start: date) -> bool:
    """Whether someone who left on `end_date` (None: not left) is still shown from `range_start` on."""
    return end_date is None or end_date >= range_start


def audience_json(value: Mapping[str, Any] | None) -> str | None:
    """The stored text of an audience: one spelling per audience, so guarded updates can compare it."""
    return json.dumps(value, sort_keys=True) if value is not None else None


@dataclass(frozen=True, slots=True)
class Audience:
    """Whole school (`groups` None) or the union of `groups`, minus `exclude` either way."""

    groups: frozenset[str] | None = None
    exclude: frozenset[str] = frozenset()

    @classmethod
    def of(cls, grant: HasAudience | None) -> Audience:
        """The audience a grant (None: no grant yet) holds."""
        return cls.parse(grant.audience_json if grant is not None else None)

    @classmethod
    def parse(cls, stored: str | Mapping[str, Any] | None) -> Audience:
        """From the stored JSON text (or its decoded mapping)."""
        value = json.loads(stored) if isinstance(stored, str) else stored
        if not value:
            return cls()
        named = value.get("groups")
        return cls(
            None if named is None else frozenset(str(group) for group in named),
            frozenset(str(student) for student in value.get("exclude") or ()),
        )

    @classmethod
    def chosen(cls, groups: Iterable[str] | None, exclude: Iterable[str] = ()) -> Audience:
        return cls(None if groups is None else frozenset(groups), frozenset(exclude))

    @property
    def whole_school(self) -> bool:
        return self.groups is None

    @property
    def sorted_groups(self) -> tuple[str, ...]:
        return tuple(sorted(self.groups or ()))

    @property
    def sorted_exclude(self) -> tuple[str, ...]:
        return tuple(sorted(self.exclude))

    def stored(self) -> dict[str, Any] | None:
        """What `Grant.audience` keeps: None for the whole school, else sorted ids without repeats."""
        if self.groups is None and not self.exclude:
            return None
        return {
            "groups": sorted(self.groups) if self.groups is not None else None,
            "exclude": sorted(self.exclude),
        }

    def stored_json(self) -> str | None:
        return audience_json(self.stored())

    def summary(self) -> dict[str, Any]:
        """For the authorisation log: ids of groups (or how many), how many pupils excluded."""
        out: dict[str, Any] = {"kind": "school" if self.groups is None else "groups"}
        if self.groups is not None:
            out["group_count"] = len(self.groups)
            if len(self.groups) <= _AUDIT_GROUP_IDS:
                out["group_ids"] = sorted(self.groups)
        out["excluded_count"] = len(self.exclude)
        return out

    def key(self, range_start: date) -> str:
        """A canonical text of the audience on a day, for ETags and fingerprints."""
        groups = "*" if self.groups is None else ",".join(sorted(self.groups))
        return f"{groups}|{','.join(sorted(self.exclude))}|{range_start.isoformat()}"

    def includes(
        self, student_id: str, end_date: date | None, groups_of_student: Collection[str], range_start: date
    ) -> bool:
        """The rule for one live pupil, given the groups they are a student member of."""
        if student_id in self.exclude or not in_range(end_date, range_start):
            return False
        return self.groups is None or not self.groups.isdisjoint(groups_of_student)
