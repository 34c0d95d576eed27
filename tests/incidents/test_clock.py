"""The 72 hours run in real hours from detection, whatever the clocks in England do meanwhile (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from gateway.incidents.clock import deadline, hours_left, in_london, time_left

# The last Sundays of March and October 2026 are the 29th and the 25th: the Saturdays before, 00:30 UTC.
SPRING = datetime(2026, 3, 28, 0, 30, tzinfo=UTC)
AUTUMN = datetime(2026, 10, 24, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("detected", "deadline_utc", "detected_london", "deadline_london"),
    [
        (
            SPRING,
            datetime(2026, 3, 31, 0, 30, tzinfo=UTC),
            "Saturday 28 March 2026, 00:30 GMT",
            "Tuesday 31 March 2026, 01:30 BST",
        ),
        (
            AUTUMN,
            datetime(2026, 10, 27, 0, 30, tzinfo=UTC),
            "Saturday 24 October 2026, 01:30 BST",
            "Tuesday 27 October 2026, 00:30 GMT",
        ),
        (
            datetime(2026, 3, 28, 1, 30, tzinfo=timezone(timedelta(hours=1))),  # the same instant as SPRING
            datetime(2026, 3, 31, 0, 30, tzinfo=UTC),
            "Saturday 28 March 2026, 00:30 GMT",
            "Tuesday 31 March 2026, 01:30 BST",
        ),
        (
            datetime(2026, 7, 1, 12, 0, tzinfo=UTC),
            datetime(2026, 7, 4, 12, 0, tzinfo=UTC),
            "Wednesday 1 July 2026, 13:00 BST",
            "Saturday 4 July 2026, 13:00 BST",
        ),
    ],
)
def test_the_deadline_is_72_real_hours_shown_in_london_time(
    detected: datetime, deadline_utc: datetime, detected_london: str, deadline_london: str
) -> None:
    assert deadline(detected) == deadline_utc
    assert (deadline(detected) - detected).total_seconds() == 72 * 3600
    assert in_london(detected) == detected_london
    assert in_london(deadline(detected)) == deadline_london


@pytest.mark.parametrize(
    ("detected", "now", "left"),
    [
        (SPRING, SPRING, 72.0),
        # Sunday 29 March, 00:30 UTC: the clocks went forward an hour ago; 24 real hours have passed.
        (SPRING, datetime(2026, 3, 29, 0, 30, tzinfo=UTC), 48.0),
        # 02:00 BST on the wall, 25h 30m after 00:30 GMT on it: 24h 30m of real time.
        (SPRING, datetime(2026, 3, 29, 1, 0, tzinfo=UTC), 47.5),
        (SPRING, datetime(2026, 3, 31, 0, 30, tzinfo=UTC), 0.0),
        (SPRING, datetime(2026, 3, 31, 2, 0, tzinfo=UTC), -1.5),
        # Sunday 25 October, 01:30 happens twice in London: 00:30 and 01:30 UTC are 24 and 25 hours in.
        (AUTUMN, datetime(2026, 10, 25, 0, 30, tzinfo=UTC), 48.0),
        (AUTUMN, datetime(2026, 10, 25, 1, 30, tzinfo=UTC), 47.0),
        (AUTUMN, datetime(2026, 10, 27, 0, 30, tzinfo=UTC), 0.0),
        (AUTUMN, datetime(2026, 10, 28, 0, 30, tzinfo=UTC), -24.0),
    ],
)
def test_the_hours_left_count_down_across_the_clocks_changing(
    detected: datetime, now: datetime, left: float
) -> None:
    assert hours_left(detected, now) == pytest.approx(left)


@pytest.mark.parametrize(
    ("hours", "text"),
    [(72.0, "72h 00m left"), (41.5, "41h 30m left"), (0.0, "0h 00m left"), (-2.0833333, "2h 04m overdue")],
)
def test_time_left_reads_to_the_minute(hours: float, text: str) -> None:
    assert time_left(hours) == text


def test_a_time_without_its_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        deadline(datetime(2026, 3, 28, 0, 30))
    with pytest.raises(ValueError, match="timezone-aware"):
        hours_left(SPRING, datetime(2026, 3, 28, 0, 30))
