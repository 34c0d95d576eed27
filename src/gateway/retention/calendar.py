"""Working days in England and Wales, month arithmetic and birthdays (SPEC §3.8). Pure: no I/O, no clock.

A *working day* is a Monday to Friday that is not an England-and-Wales bank holiday. The bank holidays come
from the `holidays` package (`country_holidays("GB", subdiv="ENG")`, whose England and Wales lists are the
same), which includes the substitute days ("Boxing Day (observed)" and the like) and the one-off ones (a
coronation, a state funeral, a jubilee).

Every function takes and returns `datetime.date`; a `datetime` is refused, so a time of day (and its time
zone) can never shift a deadline silently. The caller decides which day it is (Europe/London).
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import datetime as dt
from functools import lru_cache

import holidays

__all__ = [
    "add_months",
    "birthday",
    "end_of_working_days",
    "is_bank_holiday",
    "is_working_day",
    "twenty_fifth_birthday",
]

_ONE_DAY = dt.timedelta(days=1)


def _require_date(value: dt.date, what: str) -> None:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise TypeError(f"{what} must be a datetime.date (not a datetime), got {type(value).__name__}")


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[dt.date]:
    """England-and-Wales bank holidays of one year, substitute days included."""
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_bank_holiday(day: dt.date) -> bool:
    """Whether `day` is a bank holiday in England and Wales (a substitute day counts)."""
    _require_date(day, "day")
    return day in _bank_holidays(day.year)


def is_working_day(day: dt.date) -> bool:
    """Monday to Friday and not an England-and-Wales bank holiday."""
    _require_date(day, "day")
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def end_of_working_days(start_day: dt.date, n: int) -> dt.date:
    """The day at whose end "the nth working day after `start_day`" ends.

    That is the nth working day strictly after `start_day`: `start_day` itself never counts, whether or not
    it is a working day. Something deleted on Friday 22 May 2026 (the late-May bank holiday is Monday 25 May)
    counts Tuesday 26 as day 1 and ends on Monday 1 June. `n` must be at least 1.
    """
    _require_date(start_day, "start_day")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    day = start_day
    counted = 0
    while counted < n:
        day += _ONE_DAY
        if is_working_day(day):
            counted += 1
    return day


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved by `months` calendar months: the same day number, clamped to the target month's last day.

    31 January + 1 month is 28 February (29 in a leap year); 31 March + 11 months is 28 February of the
    next year; 29 February + 12 months is 28 February. `months` may be negative.
    """
    _require_date(day, "day")
    if isinstance(months, bool) or not isinstance(months, int):
        raise TypeError(f"months must be an int, got {months!r}")
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    month = month0 + 1
    last = _stdlib_calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))


def birthday(date_of_birth: dt.date, age: int) -> dt.date:
    """The day on which someone born on `date_of_birth` reaches `age` (their `age`th birthday).

    Someone born on 29 February reaches an age in a common (non-leap) year on **1 March**, never on
    28 February. 28 February would be a day before the anniversary they do not have that year; 1 March is the
    first day on which the full number of years has certainly passed, so a deadline tied to an age is never
    earlier than the real anniversary, and the answer is the same every time. In a leap year the birthday is
    29 February itself.
    """
    _require_date(date_of_birth, "date_of_birth")
    if isinstance(age, bool) or not isinstance(age, int) or age < 0:
        raise ValueError(f"age must be a non-negative int, got {age!r}")
    year = date_of_birth.year + age
    if date_of_birth.month == 2 and date_of_birth.day == 29 and not _stdlib_calendar.isleap(year):
        return dt.date(year, 3, 1)
    return date_of_birth.replace(year=year)


def twenty_fifth_birthday(date_of_birth: dt.date) -> dt.date:
    """The 25th birthday (29 February births: 1 March, see `birthday`).

    Born in a leap year, the 25th birthday always falls in a common year (a leap year plus 25 is never a leap
    year), so a 29 February birth always reaches 25 on 1 March.
    """
    return birthday(date_of_birth, 25)
