"""Times for people: UK local time (Europe/London), with the zone named (GMT or BST), as every page shows.

The zone comes from the system's zoneinfo or, where the host has none (slim images), the `tzdata` package.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

UK: Final = ZoneInfo("Europe/London")


def uk_time(value: datetime) -> str:
    """`26 November 2026, 14:05 GMT` (a naive value is taken as UTC, as the database stores it)."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    local = aware.astimezone(UK)
    return f"{local.day} {local:%B %Y, %H:%M} {local.tzname()}"


def iso_utc(value: datetime) -> str:
    """The same moment for a `<time datetime>` attribute."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def uk_day_start(day: date) -> datetime:
    """Midnight at the start of `day` in the UK, in UTC."""
    return datetime.combine(day, time(0), tzinfo=UK).astimezone(UTC)


def uk_day_end(day: date) -> datetime:
    """Midnight at the end of `day` in the UK (the next day's start), in UTC: an exclusive bound."""
    return uk_day_start(day + timedelta(days=1))
