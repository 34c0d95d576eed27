"""Which day it is where the rules apply: retention deadlines count days in England (Europe/London)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

ENGLAND = ZoneInfo("Europe/London")


def day_in_england(moment: datetime) -> date:
    """The calendar day in England at `moment` (an aware datetime): 23:30 UTC in summer is the next day."""
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is needed to know the day in England")
    return moment.astimezone(ENGLAND).date()
