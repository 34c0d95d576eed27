"""`plan_narrowing` (pure): what counts as narrowing a grant, and every reason a request is refused."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from gateway.consent.audience import Audience
from gateway.consent.rules import Narrowing, NarrowingRefused, plan_narrowing
from gateway.scopes import expand

HELD = expand({"groups", "students.demographics", "students.sen", "attendance.summaries"})
REQUIRED = expand({"groups"})
WHOLE = Audience()
GROUPS = Audience.chosen(("yr7", "8b"), ("stu-1",))


def refused(
    request: Narrowing, current: Audience = WHOLE, *, required: frozenset[str] = REQUIRED, **known: set[str]
) -> list[Mapping[str, str]]:
    with pytest.raises(NarrowingRefused) as caught:
        plan_narrowing(HELD, required, current, request, **known)
    assert caught.value.status == 422
    return caught.value.errors


def test_removing_optional_scopes_keeps_the_rest_and_the_audience() -> None:
    plan = plan_narrowing(HELD, REQUIRED, GROUPS, Narrowing(("students.sen", "attendance.summaries")))
    assert plan.removed == {"students.sen", "attendance.summaries"}
    assert plan.scopes == HELD - plan.removed
    assert plan.audience == GROUPS


@pytest.mark.parametrize(
    ("current", "new", "known"),
    [
        (WHOLE, Audience.chosen(("yr7",)), {"known_groups": {"yr7", "yr8"}}),
        (WHOLE, Audience.chosen(None, ("stu-2",)), {"known_students": {"stu-2"}}),
        (GROUPS, Audience.chosen(("yr7",), ("stu-1",)), {}),
        (GROUPS, Audience.chosen(("8b", "yr7"), ("stu-1", "stu-9")), {"known_students": {"stu-9"}}),
        # Groups no longer in the MIS may stay in the grant: they are not new.
        (Audience.chosen(("gone",)), Audience.chosen(("gone",), ("stu-3",)), {"known_students": {"stu-3"}}),
    ],
)
def test_shrinking_the_audience_is_a_narrowing(
    current: Audience, new: Audience, known: dict[str, set[str]]
) -> None:
    assert plan_narrowing(HELD, REQUIRED, current, Narrowing((), new), **known).audience == new


@pytest.mark.parametrize(
    ("scope", "says"),
    [
        ("groups", "required by the app"),
        ("school", "required by the app"),
        ("students.basic", "comes with"),
        ("students.medical", "does not hold"),
        ("students.nonsense", "Not a scope"),
    ],
)
def test_scopes_that_cannot_be_removed_alone(scope: str, says: str) -> None:
    errors = refused(Narrowing(("students.sen", scope)))
    assert len(errors) == 1
    assert errors[0]["pointer"] == "#/remove_scopes/1"
    assert says in errors[0]["detail"]


def test_an_implied_scope_goes_only_with_the_scopes_that_imply_it() -> None:
    required = frozenset({"school", "groups"})  # students.basic here is implied, not required
    errors = refused(Narrowing(("students.basic",)), required=required)
    assert "comes with" in errors[0]["detail"]
    assert "students.sen" in errors[0]["detail"]
    plan = plan_narrowing(
        HELD, required, WHOLE, Narrowing(("students.basic", "students.demographics", "students.sen"))
    )
    assert plan.scopes == {"school", "groups", "attendance.summaries"}


@pytest.mark.parametrize(
    ("current", "new", "pointer", "says"),
    [
        (GROUPS, Audience.chosen(None, ("stu-1",)), "#/audience/groups", "whole school would widen"),
        (GROUPS, Audience.chosen(("yr7", "yr8"), ("stu-1",)), "#/audience/groups", "adding them widens"),
        (GROUPS, Audience.chosen(("yr7",)), "#/audience/exclude", "would become visible"),
        (WHOLE, Audience.chosen(()), "#/audience/groups", "at least one group"),
        (WHOLE, Audience.chosen(("house-red",)), "#/audience/groups", "not year, registration or teaching"),
        (WHOLE, Audience.chosen(None, ("stu-404",)), "#/audience/exclude", "not on the school's roll"),
    ],
)
def test_widening_or_unknown_audiences_are_refused(
    current: Audience, new: Audience, pointer: str, says: str
) -> None:
    errors = refused(Narrowing((), new), current, known_groups={"yr7", "yr8"}, known_students={"stu-1"})
    assert [error["pointer"] for error in errors] == [pointer]
    assert says in errors[0]["detail"]
    if "widen" in says or "visible" in says:
        assert "consent page" in errors[0]["detail"]


def test_every_reason_is_listed_at_once() -> None:
    errors = refused(Narrowing(("groups", "students.medical"), Audience.chosen(None)), GROUPS)
    assert [error["pointer"] for error in errors] == [
        "#/remove_scopes/0",
        "#/remove_scopes/1",
        "#/audience/groups",
        "#/audience/exclude",
    ]


@pytest.mark.parametrize(
    "request_",
    [Narrowing(), Narrowing((), GROUPS), Narrowing((), Audience.chosen(("8b", "yr7"), ("stu-1",)))],
)
def test_a_request_that_changes_nothing_is_refused(request_: Narrowing) -> None:
    errors = refused(request_, GROUPS)
    assert errors == [{"detail": errors[0]["detail"], "pointer": "#"}]
    assert "Nothing would change" in errors[0]["detail"]
