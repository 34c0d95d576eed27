"""Retention (SPEC §3.8): the working-day calendar and the four rules as data, with their due dates.

Pure and free of I/O; imports nothing of `gateway` outside this package.
"""

from gateway.retention.calendar import (
    add_months,
    birthday,
    end_of_working_days,
    is_bank_holiday,
    is_working_day,
    twenty_fifth_birthday,
)
from gateway.retention.rules import (
    CONNECTOR_DELETED,
    DELETION_REQUESTED,
    FORMER_PUPIL,
    INACTIVE,
    RULES,
    FormerPupilRule,
    InactivityRule,
    RuleName,
    WorkingDaysRule,
    connector_deleted_due,
    deletion_requested_due,
    former_pupil_due,
    inactive_due,
    inactive_warning_on,
    rule_named,
)

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
    "add_months",
    "birthday",
    "connector_deleted_due",
    "deletion_requested_due",
    "end_of_working_days",
    "former_pupil_due",
    "inactive_due",
    "inactive_warning_on",
    "is_bank_holiday",
    "is_working_day",
    "rule_named",
    "twenty_fifth_birthday",
]
