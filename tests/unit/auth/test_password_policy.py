"""The password policy (SPEC §5): each rule with passwords that pass and passwords that fail it."""

from __future__ import annotations

import pytest

from gateway.auth.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    PolicyCode,
    check_password_policy,
    common_passwords,
    is_common_password,
)


def codes(password: str, *, email: str | None = None) -> set[PolicyCode]:
    return {problem.code for problem in check_password_policy(password, email=email)}


@pytest.mark.parametrize(
    "password",
    [
        "Correct horse 7 battery",
        "kx7vq2pm",  # exactly the minimum length
        "caf\u00e9 au lait 42",
        # Cyrillic letters count as letters.
        "\u0417\u0438\u043c\u0430 2024 \u0445\u043e\u043b\u043e\u0434\u043d\u0430\u044f",
        "\U0001f469\u200d\U0001f4bb coder 42 lives here",  # emoji joined by ZWJ is allowed
        "spaces are fine 9 times",
    ],
)
def test_acceptable_passwords(password: str) -> None:
    assert check_password_policy(password, email="head@school.sch.uk") == []


def test_codes_are_stable() -> None:
    assert {code.value for code in PolicyCode} == {
        "password_too_short",
        "password_too_long",
        "password_needs_letter",
        "password_needs_digit",
        "password_too_common",
        "password_contains_email",
        "password_has_control_characters",
    }


def test_every_problem_has_a_plain_english_message() -> None:
    problems = check_password_policy("\t", email="x@y.uk")
    assert {p.code for p in problems} == {
        PolicyCode.TOO_SHORT,
        PolicyCode.NO_LETTER,
        PolicyCode.NO_DIGIT,
        PolicyCode.CONTROL_CHARACTERS,
    }
    for problem in problems:
        assert problem.message[0].isupper()
        assert problem.message.endswith(".")


def test_too_short() -> None:
    assert MIN_PASSWORD_LENGTH == 8
    assert codes("kx7vq2p") == {PolicyCode.TOO_SHORT}
    assert codes("kx7vq2pm") == set()


def test_too_long() -> None:
    assert MAX_PASSWORD_LENGTH == 128
    assert codes("kx7vq2pm" * 16) == set()  # 128 characters
    assert codes("kx7vq2pm" * 16 + "z") == {PolicyCode.TOO_LONG}
    # Absurd input is refused at once, with the one problem that matters.
    assert codes("x" * 1_000_000) == {PolicyCode.TOO_LONG}


def test_length_is_counted_after_normalisation() -> None:
    # U+FDFA is one code point that NFKC expands to 18 characters.
    assert codes("\ufdfa" + "z1") == set()
    assert PolicyCode.TOO_LONG in codes("\ufdfa" * 8)


def test_needs_a_digit() -> None:
    assert codes("correct horse battery") == {PolicyCode.NO_DIGIT}
    assert codes("correct horse battery 1") == set()


def test_needs_a_letter() -> None:
    assert codes("8675 3091 1234") == {PolicyCode.NO_LETTER}
    assert codes("8675 3091 1234 q") == set()


@pytest.mark.parametrize(
    "password",
    [
        "1qaz2wsx",  # on the list as it is
        "PASSWORD1",  # case does not matter
        "Password123",
        "password1!",  # common core with a digit and punctuation after it
        "Dragon2024!!",
        "!!monkey1234",  # ... or before it
        "letmein 99",
        "qwerty123456",
        "\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44\uff11",  # full-width "password1", caught after NFKC
    ],
)
def test_common_passwords_are_refused(password: str) -> None:
    assert PolicyCode.COMMON in codes(password)


@pytest.mark.parametrize("password", ["Correct horse 7 battery", "kx7vq2pm", "xk39fj2#1"])
def test_uncommon_passwords_pass(password: str) -> None:
    assert not is_common_password(password)


def test_common_list_comes_from_zxcvbn() -> None:
    common = common_passwords()
    assert len(common) >= 10_000
    assert {"password", "123456", "qwerty", "letmein"} <= common


@pytest.mark.parametrize(
    ("password", "email"),
    [
        ("jo.bloggs2024", "Jo.Bloggs@school.sch.uk"),
        ("my JO.BLOGGS 24 pw", "jo.bloggs@school.sch.uk"),
        ("headteacher1", "headteacher+gateway@school.sch.uk"),  # the part before +tag
        ("head1234", "head1234@school.sch.uk"),  # equal
        ("zz1head1234", "head1234"),  # no @: the whole value is the local part
    ],
)
def test_password_must_not_contain_email_local_part(password: str, email: str) -> None:
    assert PolicyCode.CONTAINS_EMAIL in codes(password, email=email)


def test_short_local_parts_only_forbid_equality() -> None:
    # "jo" inside "jobs" is a coincidence, not a weakness worth refusing.
    assert codes("jobs 4 the boys", email="jo@school.sch.uk") == set()
    assert codes("mrb12345", email="mrb12345@school.sch.uk") == {PolicyCode.CONTAINS_EMAIL}


def test_email_is_optional() -> None:
    assert codes("jo.bloggs2024") == set()


@pytest.mark.parametrize(
    "password",
    [
        "tab\there 1234",
        "line\nbreak 1234",
        "null\x00byte 1234",
        "escape\x1b[31m 1234",
        "\u202eright to left 1234",  # bidi override hides what was typed
        "zero\u200bwidth space 1234",
        "lone \ud800 surrogate 1234",
    ],
)
def test_control_characters_are_refused(password: str) -> None:
    assert codes(password) == {PolicyCode.CONTROL_CHARACTERS}


def test_all_problems_are_reported_together() -> None:
    assert codes("pass", email="pass@school.sch.uk") == {
        PolicyCode.TOO_SHORT,
        PolicyCode.NO_DIGIT,
        PolicyCode.COMMON,
        PolicyCode.CONTAINS_EMAIL,
    }
