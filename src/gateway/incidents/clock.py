"""The 72 hours (UK GDPR, Article 33): a breach is reported within 72 hours of the controller becoming
aware of it. Pure: aware datetimes in, aware datetimes and hours out.

The deadline is 72 real hours after detection, counted in UTC, so a change of the clocks in England between
the two neither adds nor takes away an hour; it is shown in Europe/London time, where the same instant may
read 71 or 73 hours of wall-clock later.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

WINDOW: Final = timedelta(hours=72)
LONDON: Final = ZoneInfo("Europe/London")


def _aware(value: datetime, name: str) -> datetime:
    if value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def deadline(detected_at: datetime) -> datetime:
    """When the 72 hours from `detected_at` run out, in UTC."""
    return _aware(detected_at, "detected_at") + WINDOW


def hours_left(detected_at: datetime, now: datetime) -> float:
    """Hours until the deadline; negative once it has passed (overdue)."""
    return (deadline(detected_at) - _aware(now, "now")).total_seconds() / 3600


def in_london(moment: datetime) -> str:
    """The instant as people in England read it: `Tuesday 31 March 2026, 01:30 BST`."""
    local = _aware(moment, "moment").astimezone(LONDON)
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M} {local.tzname()}"


def time_left(hours: float) -> str:
    """`41h 30m left` or `2h 05m overdue`, to the minute (rounded towards the deadline)."""
    minutes = int(abs(hours) * 60)
    text = f"{minutes // 60}h {minutes % 60:02d}m"
    return f"{text} left" if hours >= 0 else f"{text} overdue"
