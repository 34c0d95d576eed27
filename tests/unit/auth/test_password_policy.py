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


def test_short_local_parts_count_only_as_words_of_their_own() -> None:
    # "jo" inside "jobs" is a coincidence, not a weakness worth refusing ...
    assert codes("jobs 4 the boys", email="jo@school.sch.uk") == set()
    assert codes("Enjoy-the-9-rain", email="jo@school.sch.uk") == set()
    # ... but standing on its own, or repeated, it is the name.
    assert codes("Rain 9 jo road", email="jo@school.sch.uk") == {PolicyCode.CONTAINS_EMAIL}
    assert codes("mrb12345", email="mrb12345@school.sch.uk") == {PolicyCode.CONTAINS_EMAIL}


ADMIN = "vb@example.org"


@pytest.mark.parametrize(
    "password",
    [
        "vb@example.org1",  # the reproduction from issue 12: the whole address and a digit
        "VB@EXAMPLE.ORG1",
        "Vb@Example.Org-2026",
        "my vb@example.org pw 7",
        "gro.elpmaxe@bv 2026",  # backwards
        "vb@3x4mpl3.0rg 2026",  # zxcvbn's l33t substitutions: 3 for e, 4 for a, 0 for o
        "VB-vb-2026!x",  # the two-letter local part as words of their own
        "vb2026-Lantern",
        "Lantern 7 VB",
        "vbvb 2026 Quill",
    ],
)
def test_the_whole_address_and_its_local_part_are_refused(password: str) -> None:
    assert PolicyCode.CONTAINS_EMAIL in codes(password, email=ADMIN)


@pytest.mark.parametrize(
    ("password", "email"),
    [
        ("head.teacher+gw@school.sch.uk", "head.teacher+gw@school.sch.uk"),
        ("HEAD.TEACHER@SCHOOL.SCH.UK 9", "head.teacher+gw@school.sch.uk"),  # the address without its tag
        ("J0.Bl0ggs 2024", "jo.bloggs@school.sch.uk"),
        ("5sggolb.oj", "jo.bloggs@school.sch.uk"),
        ("Bursar-Office-2026", "BURSAR@school.sch.uk"),  # the stored address's case does not matter
    ],
)
def test_address_variants_are_refused(password: str, email: str) -> None:
    assert PolicyCode.CONTAINS_EMAIL in codes(password, email=email)


@pytest.mark.parametrize(
    ("password", "email"),
    [
        ("Obvious-Lantern-42", ADMIN),  # "vb" inside a word
        ("Synthetic-Quill-4821", ADMIN),
        ("Gravel-Meadow-6620", "head.teacher@synthetic-school.example.org"),
        ("example org tram 42", ADMIN),  # the domain alone is not the address
    ],
)
def test_unrelated_passwords_still_pass(password: str, email: str) -> None:
    assert codes(password, email=email) == set()


@pytest.mark.parametrize(
    "password",
    ["vb@example.org1", "1gro.elpmaxe@bv", "vb@ex4mple.0rg!", "Mail vb@example.org now 7"],
)
def test_what_zxcvbn_matches_as_a_user_input_is_refused(password: str) -> None:
    from zxcvbn import zxcvbn

    found = zxcvbn(password, user_inputs=[ADMIN])["sequence"]
    assert any(match.get("dictionary_name") == "user_inputs" for match in found)
    assert PolicyCode.CONTAINS_EMAIL in codes(password, email=ADMIN)


def test_substitutes_alone_are_not_the_address() -> None:
    # Every character zxcvbn can read as a letter, at the length cap (zxcvbn's own l33t matcher takes about
    # a second on this; the policy's patterns are linear): without a letter typed, it is not the name.
    substitutes = ("4@8([{<369!|10$5+7%2" * 7)[:MAX_PASSWORD_LENGTH]
    assert PolicyCode.CONTAINS_EMAIL not in codes(substitutes, email="abeg.ilostxz@example.org")
    assert codes("Sunset-411-road", email="ali@school.sch.uk") == set()
    assert codes("Sunset-4l1-road", email="ali@school.sch.uk") == {PolicyCode.CONTAINS_EMAIL}
