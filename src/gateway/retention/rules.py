"""The four retention rules of SPEC §3.8 as data, and their due dates (pure: no database, no clock).

A *due date* is the day by whose end the purge must have happened: the scheduler may purge on it (or on any
later day, if it was down), never before it. The rules compute dates only; which schools and pupils they
apply to, and what "today" is (Europe/London), is the caller's business.

- `connector_deleted`: a school's MIS connector was deleted; its MIS data is due at the end of the 5th
  working day after the day of deletion (England and Wales, see `gateway.retention.calendar`).
- `deletion_requested`: the school (an admin) or an operator asked for its data to be deleted; due at the
  end of the 5th working day after the day of the request.
- `inactive`: no connector sync, no data API access and no admin sign-in since `last_activity_day`; the
  admins are warned 11 months after it and the data is due 12 months after it (same day number, clamped to
  the month's last day: see `calendar.add_months`).
- `former_pupil`: a pupil who has left is erased on their 25th birthday (29 February births: 1 March in a
  common year), but never before their leaving date has passed, i.e. no earlier than the day after the
  leaving date; a pupil with no leaving date has not left and is never due.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final, Literal

from gateway.retention.calendar import add_months, birthday, end_of_working_days

__all__ = [
    "CONNECTOR_DELETED",
    "DELETION_REQUESTED",
    "FORMER_PUPIL",
    "INACTIVE",
    "RULES",
    "FormerPupilRule",
    "InactivityRule",
    "RuleName",
    "WorkingDaysRule",
    "connector_deleted_due",
    "deletion_requested_due",
    "former_pupil_due",
    "inactive_due",
    "inactive_warning_on",
    "rule_named",
]

RuleName = Literal["connector_deleted", "deletion_requested", "inactive", "former_pupil"]

_ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class WorkingDaysRule:
    """Due at the end of the `working_days`th working day after the triggering day."""

    name: RuleName
    description: str
    working_days: int

    def due(self, triggered_on: dt.date) -> dt.date:
        return end_of_working_days(triggered_on, self.working_days)


@dataclass(frozen=True, slots=True)
class InactivityRule:
    """Warn `warning_months` and purge `months` calendar months after the last activity."""

    name: RuleName
    description: str
    warning_months: int
    months: int

    def warning_on(self, last_activity_day: dt.date) -> dt.date:
        return add_months(last_activity_day, self.warning_months)

    def due(self, last_activity_day: dt.date) -> dt.date:
        return add_months(last_activity_day, self.months)


@dataclass(frozen=True, slots=True)
class FormerPupilRule:
    """Due on the `age`th birthday, but no earlier than the day after the leaving date; None if not left."""

    name: RuleName
    description: str
    age: int

    def due(self, date_of_birth: dt.date, leaving_date: dt.date | None) -> dt.date | None:
        if leaving_date is None:
            return None
        return max(birthday(date_of_birth, self.age), leaving_date + _ONE_DAY)


CONNECTOR_DELETED: Final = WorkingDaysRule(
    name="connector_deleted",
    description=(
        "The school's MIS connector was deleted: its MIS data is purged at the end of the 5th working day "
        "(England and Wales) after the day of deletion."
    ),
    working_days=5,
)
DELETION_REQUESTED: Final = WorkingDaysRule(
    name="deletion_requested",
    description=(
        "The school or an operator asked for the school's data to be deleted: it is purged at the end of "
        "the 5th working day (England and Wales) after the day of the request."
    ),
    working_days=5,
)
INACTIVE: Final = InactivityRule(
    name="inactive",
    description=(
        "No connector sync, no data API access and no admin sign-in for 12 months: the admins are warned "
        "11 months after the last activity and the school's data is purged 12 months after it."
    ),
    warning_months=11,
    months=12,
)
FORMER_PUPIL: Final = FormerPupilRule(
    name="former_pupil",
    description=(
        "A pupil whose leaving date has passed has every record about them erased on their 25th birthday "
        "(1 March for a 29 February birth in a common year), or the day after the leaving date if that "
        "is later."
    ),
    age=25,
)

RULES: Final[tuple[WorkingDaysRule | InactivityRule | FormerPupilRule, ...]] = (
    CONNECTOR_DELETED,
    DELETION_REQUESTED,
    INACTIVE,
    FORMER_PUPIL,
)


def rule_named(name: str) -> WorkingDaysRule | InactivityRule | FormerPupilRule:
    """The rule called `name`; KeyError for any other name."""
    for rule in RULES:
        if rule.name == name:
            return rule
    raise KeyError(name)


def connector_deleted_due(deleted_on: dt.date) -> dt.date:
    """End of the 5th working day after the day the MIS connector was deleted."""
    return CONNECTOR_DELETED.due(deleted_on)


def deletion_requested_due(requested_on: dt.date) -> dt.date:
    """End of the 5th working day after the day deletion was requested."""
    return DELETION_REQUESTED.due(requested_on)


def inactive_warning_on(last_activity_day: dt.date) -> dt.date:
    """11 months after the last activity (same day number, clamped to the month's end)."""
    return INACTIVE.warning_on(last_activity_day)


def inactive_due(last_activity_day: dt.date) -> dt.date:
    """12 months after the last activity (same day number, clamped to the month's end)."""
    return INACTIVE.due(last_activity_day)


def former_pupil_due(date_of_birth: dt.date, leaving_date: dt.date | None) -> dt.date | None:
    """The 25th birthday, or the day after `leaving_date` if later; None while the pupil has not left."""
    return FORMER_PUPIL.due(date_of_birth, leaving_date)
