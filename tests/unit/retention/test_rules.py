"""`gateway.retention.rules`: the four rules as data and their due dates (pure)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from gateway.retention.rules import (
    CONNECTOR_DELETED,
    DELETION_REQUESTED,
    FORMER_PUPIL,
    INACTIVE,
    RULES,
    connector_deleted_due,
    deletion_requested_due,
    former_pupil_due,
    inactive_due,
    inactive_warning_on,
    rule_named,
)

D = dt.date


def test_the_four_rules_are_named_once_each() -> None:
    assert [rule.name for rule in RULES] == [
        "connector_deleted",
        "deletion_requested",
        "inactive",
        "former_pupil",
    ]
    for rule in RULES:
        assert rule_named(rule.name) is rule
        assert rule.description.strip()


def test_an_unknown_rule_name_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        rule_named("forever")


def test_the_rules_carry_their_numbers_and_are_frozen() -> None:
    assert CONNECTOR_DELETED.working_days == 5
    assert DELETION_REQUESTED.working_days == 5
    assert (INACTIVE.warning_months, INACTIVE.months) == (11, 12)
    assert FORMER_PUPIL.age == 25
    with pytest.raises(dataclasses.FrozenInstanceError):
        CONNECTOR_DELETED.working_days = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("triggered_on", "due"),
    [
        (D(2026, 5, 22), D(2026, 6, 1)),  # Friday before the late-May bank holiday (Monday 25 May 2026)
        (D(2026, 5, 25), D(2026, 6, 1)),  # on the bank holiday itself
        (D(2026, 12, 24), D(2027, 1, 5)),  # Christmas 2026, Boxing Day observed Monday 28
        (D(2027, 12, 24), D(2028, 1, 5)),  # Christmas 2027 on a weekend: 27 and 28 observed
        (D(2026, 4, 2), D(2026, 4, 13)),  # Maundy Thursday 2026: Good Friday and Easter Monday skipped
        (D(2027, 3, 25), D(2027, 4, 5)),
        (D(2026, 12, 7), D(2026, 12, 14)),
    ],
)
def test_connector_deleted_and_deletion_requested_are_due_after_five_working_days(
    triggered_on: dt.date, due: dt.date
) -> None:
    assert connector_deleted_due(triggered_on) == due
    assert deletion_requested_due(triggered_on) == due


@pytest.mark.parametrize(
    ("last_activity", "warning", "due"),
    [
        (D(2026, 1, 31), D(2026, 12, 31), D(2027, 1, 31)),
        (D(2026, 3, 31), D(2027, 2, 28), D(2027, 3, 31)),  # warning clamped to February's end
        (D(2027, 3, 31), D(2028, 2, 29), D(2028, 3, 31)),  # in a leap year, 29 February
        (D(2026, 5, 31), D(2027, 4, 30), D(2027, 5, 31)),
        (D(2027, 2, 28), D(2028, 1, 28), D(2028, 2, 28)),
        (D(2028, 2, 29), D(2029, 1, 29), D(2029, 2, 28)),  # due clamped to February's end
        (D(2026, 12, 5), D(2027, 11, 5), D(2027, 12, 5)),
    ],
)
def test_inactive_warns_at_eleven_months_and_is_due_at_twelve(
    last_activity: dt.date, warning: dt.date, due: dt.date
) -> None:
    assert inactive_warning_on(last_activity) == warning
    assert inactive_due(last_activity) == due


@pytest.mark.parametrize(
    ("date_of_birth", "leaving_date", "due"),
    [
        (D(2004, 2, 29), None, None),  # not left: never due
        (D(1990, 5, 10), None, None),  # not left, even past 25
        (D(2004, 2, 29), D(2022, 7, 22), D(2029, 3, 1)),  # 29 February birth: 1 March
        (D(2001, 9, 1), D(2020, 7, 17), D(2026, 9, 1)),
        (D(1990, 5, 10), D(2026, 7, 22), D(2026, 7, 23)),  # left after their 25th birthday: the next day
        (D(2001, 7, 22), D(2026, 7, 22), D(2026, 7, 23)),  # left on their 25th birthday: the next day
        (D(2001, 7, 23), D(2026, 7, 22), D(2026, 7, 23)),  # 25 the day after leaving: that day
        (D(2010, 1, 1), D(2027, 7, 20), D(2035, 1, 1)),  # a leaving date still ahead
    ],
)
def test_former_pupil_is_due_on_the_25th_birthday_once_the_leaving_date_has_passed(
    date_of_birth: dt.date, leaving_date: dt.date | None, due: dt.date | None
) -> None:
    assert former_pupil_due(date_of_birth, leaving_date) == due
