"""Scope strings (RFC 6749 §3.3), scope errors, implication and canonical formatting (SPEC §2)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.scopes import (
    SCOPE_NAMES,
    DuplicateScope,
    MalformedScope,
    ScopeError,
    UnknownScope,
    expand,
    format_scopes,
    parse_scope_string,
    sort_scopes,
)

scope_sets = st.frozensets(st.sampled_from(SCOPE_NAMES))

# RFC 6749 §5.2: error_description = 1*( %x20-21 / %x23-5B / %x5D-7E )
ERROR_DESCRIPTION = re.compile(r"[\x20\x21\x23-\x5B\x5D-\x7E]+")


# --- parse_scope_string ------------------------------------------------------------------------------------


def test_parses_space_separated_names() -> None:
    assert parse_scope_string("school") == {"school"}
    assert parse_scope_string("students.fsm groups school") == {"students.fsm", "groups", "school"}


def test_empty_string_is_the_empty_set() -> None:
    assert parse_scope_string("") == frozenset()


def test_returns_a_frozenset() -> None:
    assert isinstance(parse_scope_string("groups"), frozenset)


@pytest.mark.parametrize(
    ("value", "bad"),
    [
        (" ", ("", "")),
        (" school", ("",)),
        ("school ", ("",)),
        ("school  groups", ("",)),
        ("school\tgroups", ("school\tgroups",)),
        ("school\ngroups", ("school\ngroups",)),
        ('school "groups"', ('"groups"',)),
        ("school\\ groups", ("school\\",)),
        ("sch\x7fool", ("sch\x7fool",)),
        ("schöol groups", ("schöol",)),
        ("school\u00a0groups", ("school\u00a0groups",)),
        ('"a" b\\ c', ('"a"', "b\\")),
    ],
)
def test_rejects_what_rfc_6749_does_not_allow(value: str, bad: tuple[str, ...]) -> None:
    with pytest.raises(MalformedScope) as caught:
        parse_scope_string(value)
    assert caught.value.names == bad


def test_rejects_duplicates_naming_each_once_in_order() -> None:
    with pytest.raises(DuplicateScope) as caught:
        parse_scope_string("groups school groups school groups students.basic")
    assert caught.value.names == ("groups", "school")
    assert str(caught.value) == "duplicated scope: groups, school"


def test_rejects_unknown_names_in_order() -> None:
    with pytest.raises(UnknownScope) as caught:
        parse_scope_string("school students.shoe_size School students.basic students")
    assert caught.value.names == ("students.shoe_size", "School", "students")
    assert str(caught.value) == "unknown scope: students.shoe_size, School, students"


def test_malformed_is_reported_before_duplicates_and_duplicates_before_unknown() -> None:
    with pytest.raises(MalformedScope):
        parse_scope_string("nope nope  school")
    with pytest.raises(DuplicateScope):
        parse_scope_string("nope nope school")


def test_errors_are_value_errors_of_one_family() -> None:
    for error in (UnknownScope, DuplicateScope, MalformedScope):
        assert issubclass(error, ScopeError)
        assert issubclass(error, ValueError)


def test_malformed_message_counts_instead_of_quoting() -> None:
    error = MalformedScope(['"x"', ""])
    assert str(error) == (
        "malformed scope: 2 bad tokens; RFC 6749 section 3.3 wants names of printable ASCII separated by "
        "single spaces"
    )
    assert str(MalformedScope([""])).startswith("malformed scope: 1 bad token;")


def test_long_lists_and_long_names_are_cut_short_in_messages() -> None:
    error = UnknownScope([f"x{i}" for i in range(8)])
    assert str(error) == "unknown scope: x0, x1, x2, x3, x4 and 3 more"
    assert len(error.names) == 8
    long_name = "a" * 100
    assert str(UnknownScope([long_name])) == f"unknown scope: {'a' * 37}..."


def test_names_outside_the_token_set_are_masked_in_messages() -> None:
    assert str(UnknownScope(['sch"ool\\', ""])) == "unknown scope: sch?ool?, (empty)"


@given(st.lists(st.text(max_size=60), min_size=1, max_size=8))
def test_every_message_is_a_valid_error_description(names: list[str]) -> None:
    for error in (UnknownScope(names), DuplicateScope(names), MalformedScope(names)):
        assert ERROR_DESCRIPTION.fullmatch(str(error))


names_or_junk = st.one_of(
    st.sampled_from(SCOPE_NAMES), st.text(alphabet=st.characters(exclude_characters=" "), max_size=12)
)


@given(st.lists(names_or_junk, max_size=5), st.sampled_from([" ", "  ", "\t", ","]))
def test_parse_accepts_exactly_the_well_formed_strings(names: list[str], separator: str) -> None:
    value = separator.join(names)
    well_formed = (
        (separator == " " or len(names) <= 1)
        and all(name in SCOPE_NAMES for name in names)
        and len(set(names)) == len(names)
    )
    if value == "":
        assert parse_scope_string(value) == frozenset()
    elif well_formed:
        assert parse_scope_string(value) == set(names)
    else:
        with pytest.raises(ScopeError):
            parse_scope_string(value)


# --- expand ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_scopes", "expected"),
    [
        (set(), {"school"}),
        ({"school"}, {"school"}),
        ({"groups"}, {"groups", "school"}),
        ({"students.fsm"}, {"students.fsm", "students.basic", "school"}),
        ({"students.basic"}, {"students.basic", "school"}),
        ({"contacts.details"}, {"contacts.details", "contacts.basic", "school"}),
        ({"staff.personal"}, {"staff.personal", "staff.basic", "school"}),
        ({"exclusions"}, {"exclusions", "school"}),
        (
            {"students.sen", "students.medical", "attendance.sessions"},
            {"students.sen", "students.medical", "students.basic", "attendance.sessions", "school"},
        ),
    ],
)
def test_expand_adds_implied_and_always_granted_scopes(given_scopes: set[str], expected: set[str]) -> None:
    assert expand(given_scopes) == expected


def test_expand_takes_any_iterable() -> None:
    assert expand(["students.care", "students.care"]) == {"students.care", "students.basic", "school"}
    assert expand(name for name in ("groups",)) == {"groups", "school"}


def test_expand_rejects_unknown_names() -> None:
    with pytest.raises(UnknownScope) as caught:
        expand({"school", "zeta", "alpha"})
    assert caught.value.names == ("alpha", "zeta")


def test_a_bare_string_is_refused_not_iterated() -> None:
    with pytest.raises(TypeError, match="parse_scope_string"):
        expand("school")
    with pytest.raises(TypeError):
        format_scopes("groups")


def test_expanding_everything_is_everything() -> None:
    assert expand(SCOPE_NAMES) == set(SCOPE_NAMES)


@given(scope_sets)
def test_expand_is_extensive_and_idempotent(scopes: frozenset[str]) -> None:
    expanded = expand(scopes)
    assert scopes <= expanded
    assert expand(expanded) == expanded


@given(scope_sets, scope_sets)
def test_expand_is_monotone(first: frozenset[str], second: frozenset[str]) -> None:
    assert expand(first) <= expand(first | second)


# --- sort_scopes and format_scopes ---------------------------------------------------------------------


def test_format_uses_catalogue_order() -> None:
    assert format_scopes({"exclusions", "students.basic", "school", "groups"}) == (
        "school groups students.basic exclusions"
    )
    assert format_scopes(reversed(SCOPE_NAMES)) == " ".join(SCOPE_NAMES)


def test_format_does_not_expand_and_drops_repeats() -> None:
    assert format_scopes(["students.fsm", "students.fsm"]) == "students.fsm"
    assert format_scopes([]) == ""


def test_format_rejects_unknown_names() -> None:
    with pytest.raises(UnknownScope):
        format_scopes(["school", "students.everything"])


def test_sort_scopes() -> None:
    assert sort_scopes({"staff.basic", "groups"}) == ("groups", "staff.basic")
    with pytest.raises(UnknownScope):
        sort_scopes({"nope"})


@given(scope_sets)
def test_parse_inverts_format(scopes: frozenset[str]) -> None:
    assert parse_scope_string(format_scopes(scopes)) == scopes


@given(st.permutations(SCOPE_NAMES), st.integers(min_value=0, max_value=len(SCOPE_NAMES)))
def test_format_is_canonical_whatever_the_input_order(names: list[str], count: int) -> None:
    chosen = names[:count]
    assert format_scopes(chosen) == format_scopes(sorted(chosen))
    assert format_scopes(chosen) == " ".join(name for name in SCOPE_NAMES if name in chosen)
