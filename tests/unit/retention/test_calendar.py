"""`gateway.retention.calendar`: England-and-Wales working days, month arithmetic, birthdays (pure)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.retention.calendar import (
    add_months,
    birthday,
    end_of_working_days,
    is_bank_holiday,
    is_working_day,
    twenty_fifth_birthday,
)

D = dt.date


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2026, 5, 22), True),  # Friday before the late-May bank holiday
        (D(2026, 5, 23), False),  # Saturday
        (D(2026, 5, 24), False),  # Sunday
        (D(2026, 5, 25), False),  # Spring (late-May) bank holiday
        (D(2026, 5, 26), True),
        (D(2026, 4, 3), False),  # Good Friday 2026
        (D(2026, 4, 6), False),  # Easter Monday 2026
        (D(2026, 4, 7), True),
        (D(2027, 3, 26), False),  # Good Friday 2027
        (D(2027, 3, 29), False),  # Easter Monday 2027
        (D(2026, 12, 25), False),  # Christmas Day, a Friday
        (D(2026, 12, 28), False),  # Boxing Day (Saturday) observed on Monday
        (D(2026, 12, 29), True),
        (D(2027, 12, 27), False),  # Christmas Day (Saturday) observed
        (D(2027, 12, 28), False),  # Boxing Day (Sunday) observed
        (D(2027, 12, 29), True),
        (D(2028, 1, 3), False),  # New Year's Day (Saturday) observed
        (D(2026, 8, 31), False),  # late summer bank holiday (England and Wales, not Scotland)
        (D(2026, 1, 2), True),  # a Scottish bank holiday only
        (D(2026, 3, 17), True),  # St Patrick's Day: Northern Ireland only
        (D(2023, 5, 8), False),  # one-off: the coronation
        (D(2022, 9, 19), False),  # one-off: the state funeral
    ],
)
def test_is_working_day(day: dt.date, working: bool) -> None:
    assert is_working_day(day) is working


@pytest.mark.parametrize(
    ("day", "holiday"),
    [
        (D(2026, 12, 26), True),  # Boxing Day itself, though a Saturday
        (D(2026, 12, 28), True),  # and its substitute
        (D(2026, 12, 27), False),  # a plain Sunday
        (D(2026, 5, 25), True),
        (D(2026, 5, 22), False),
    ],
)
def test_is_bank_holiday(day: dt.date, holiday: bool) -> None:
    assert is_bank_holiday(day) is holiday


@pytest.mark.parametrize(
    ("start", "n", "end"),
    [
        # Late May 2026: Friday 22, bank holiday Monday 25.
        (D(2026, 5, 22), 5, D(2026, 6, 1)),
        (D(2026, 5, 22), 1, D(2026, 5, 26)),
        (D(2026, 5, 23), 5, D(2026, 6, 1)),  # started on a Saturday
        (D(2026, 5, 25), 5, D(2026, 6, 1)),  # started on the bank holiday itself
        (D(2026, 5, 26), 5, D(2026, 6, 2)),
        (D(2026, 5, 18), 5, D(2026, 5, 26)),  # the bank holiday falls inside the count
        # Christmas 2026: Friday 25, Boxing Day Saturday 26 observed Monday 28, New Year Friday 1.
        (D(2026, 12, 24), 5, D(2027, 1, 5)),
        (D(2026, 12, 23), 5, D(2027, 1, 4)),
        (D(2026, 12, 24), 1, D(2026, 12, 29)),
        # Christmas 2027 on a weekend: Monday 27 and Tuesday 28 substitute; New Year observed Monday 3.
        (D(2027, 12, 24), 5, D(2028, 1, 5)),
        (D(2027, 12, 24), 1, D(2027, 12, 29)),
        (D(2027, 12, 23), 1, D(2027, 12, 24)),
        # Easter 2026 (Good Friday 3 April, Easter Monday 6 April) and 2027 (26 and 29 March).
        (D(2026, 4, 2), 5, D(2026, 4, 13)),
        (D(2026, 4, 2), 1, D(2026, 4, 7)),
        (D(2027, 3, 25), 5, D(2027, 4, 5)),
        # An ordinary week: only the weekend is skipped.
        (D(2026, 12, 4), 5, D(2026, 12, 11)),
        (D(2026, 12, 7), 5, D(2026, 12, 14)),
    ],
)
def test_end_of_working_days(start: dt.date, n: int, end: dt.date) -> None:
    assert end_of_working_days(start, n) == end


@pytest.mark.parametrize("n", [0, -1, True])
def test_end_of_working_days_needs_a_positive_count(n: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        end_of_working_days(D(2026, 5, 22), n)


@pytest.mark.parametrize(
    "call",
    [
        lambda: is_working_day(dt.datetime(2026, 5, 22, 12, 0)),
        lambda: end_of_working_days(dt.datetime(2026, 5, 22, 12, 0), 5),
        lambda: add_months(dt.datetime(2026, 5, 22, 12, 0), 1),
        lambda: birthday(dt.datetime(2001, 5, 22, 12, 0), 25),
        lambda: is_working_day("2026-05-22"),  # type: ignore[arg-type]
    ],
)
def test_datetimes_and_strings_are_refused(call: Callable[[], object]) -> None:
    with pytest.raises(TypeError, match=r"datetime\.date"):
        call()


@pytest.mark.parametrize(
    ("day", "months", "moved"),
    [
        (D(2026, 1, 31), 1, D(2026, 2, 28)),
        (D(2028, 1, 31), 1, D(2028, 2, 29)),
        (D(2026, 8, 31), 1, D(2026, 9, 30)),
        (D(2026, 3, 31), 11, D(2027, 2, 28)),
        (D(2027, 3, 31), 11, D(2028, 2, 29)),
        (D(2028, 2, 29), 12, D(2029, 2, 28)),
        (D(2026, 12, 5), 12, D(2027, 12, 5)),
        (D(2026, 12, 5), 1, D(2027, 1, 5)),
        (D(2026, 5, 15), -5, D(2025, 12, 15)),
        (D(2026, 5, 15), 0, D(2026, 5, 15)),
    ],
)
def test_add_months_keeps_the_day_number_clamped_to_the_month_end(
    day: dt.date, months: int, moved: dt.date
) -> None:
    assert add_months(day, months) == moved


@pytest.mark.parametrize(
    ("date_of_birth", "age", "on"),
    [
        (D(2004, 2, 29), 25, D(2029, 3, 1)),  # 29 February, common target year: 1 March
        (D(2000, 2, 29), 4, D(2004, 2, 29)),  # 29 February, leap target year: 29 February
        (D(2000, 2, 29), 25, D(2025, 3, 1)),
        (D(1896, 2, 29), 4, D(1900, 3, 1)),  # 1900 is not a leap year
        (D(2000, 2, 29), 0, D(2000, 2, 29)),
        (D(2004, 2, 28), 25, D(2029, 2, 28)),
        (D(2004, 3, 1), 25, D(2029, 3, 1)),
        (D(2001, 7, 14), 25, D(2026, 7, 14)),
    ],
)
def test_birthday(date_of_birth: dt.date, age: int, on: dt.date) -> None:
    assert birthday(date_of_birth, age) == on


@pytest.mark.parametrize(
    ("date_of_birth", "on"),
    [
        (D(2004, 2, 29), D(2029, 3, 1)),
        (D(2008, 2, 29), D(2033, 3, 1)),
        (D(2003, 2, 28), D(2028, 2, 28)),  # a 28 February birth keeps 28 February in a leap year
        (D(2001, 12, 31), D(2026, 12, 31)),
    ],
)
def test_twenty_fifth_birthday(date_of_birth: dt.date, on: dt.date) -> None:
    assert twenty_fifth_birthday(date_of_birth) == on


@given(st.dates(min_value=D(1900, 1, 1), max_value=D(2100, 12, 31)), st.integers(min_value=0, max_value=120))
def test_a_birthday_is_never_before_the_anniversary_and_at_most_a_day_after(
    date_of_birth: dt.date, age: int
) -> None:
    on = birthday(date_of_birth, age)
    clamped = add_months(date_of_birth, 12 * age)  # the anniversary, 28 February for a leapling
    assert on.year == date_of_birth.year + age
    assert clamped <= on <= clamped + dt.timedelta(days=1)
    assert on >= date_of_birth
