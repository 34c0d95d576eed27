"""argon2id hashing: round trip, normalisation, rehash on parameter change, garbled hashes, dummy verify."""

from __future__ import annotations

import dataclasses

import pytest
from argon2 import PasswordHasher, Type
from argon2.exceptions import VerifyMismatchError

from gateway.auth import passwords
from gateway.auth.passwords import (
    CHEAP_TEST_PARAMETERS,
    MAX_PASSWORD_LENGTH,
    PASSWORD_HASHER_PARAMETERS,
    Argon2Parameters,
    PasswordCheck,
    PasswordHashing,
)

OK = PasswordCheck(ok=True, needs_rehash=False)
REFUSED = PasswordCheck(ok=False, needs_rehash=False)


@pytest.fixture(scope="module")
def hashing() -> PasswordHashing:
    return PasswordHashing(CHEAP_TEST_PARAMETERS)


def test_round_trip(hashing: PasswordHashing) -> None:
    stored = hashing.hash("Correct horse 7 battery")
    assert stored.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert hashing.verify(stored, "Correct horse 7 battery") == OK
    assert hashing.verify(stored, "correct horse 7 battery") == REFUSED
    assert hashing.verify(stored, "") == REFUSED


def test_each_hash_has_its_own_salt(hashing: PasswordHashing) -> None:
    assert hashing.hash("Correct horse 7 battery") != hashing.hash("Correct horse 7 battery")


@pytest.mark.parametrize(
    ("typed_at_enrolment", "typed_at_login"),
    [
        ("caf\u00e9 au lait 42", "cafe\u0301 au lait 42"),  # composed vs decomposed accent
        ("year 2024 rocks", "year \uff12\uff10\uff12\uff14 rocks"),  # full-width digits
        ("x\u00b2 plus y 9", "x2 plus y 9"),  # superscript two
    ],
)
def test_passwords_are_nfkc_normalised(
    hashing: PasswordHashing, typed_at_enrolment: str, typed_at_login: str
) -> None:
    assert hashing.verify(hashing.hash(typed_at_enrolment), typed_at_login) == OK


def test_rehash_is_requested_when_parameters_change(hashing: PasswordHashing) -> None:
    stored = hashing.hash("Correct horse 7 battery")
    stronger = PasswordHashing(dataclasses.replace(CHEAP_TEST_PARAMETERS, memory_cost=16, time_cost=2))
    assert stronger.verify(stored, "Correct horse 7 battery") == PasswordCheck(ok=True, needs_rehash=True)
    # A wrong password never asks for a rehash: the caller has nothing trustworthy to hash.
    assert stronger.verify(stored, "wrong") == REFUSED
    assert stronger.verify(stronger.hash("Correct horse 7 battery"), "Correct horse 7 battery") == OK


def test_rehash_is_requested_for_an_older_argon2_variant(hashing: PasswordHashing) -> None:
    argon2i = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, hash_len=32, salt_len=16, type=Type.I)
    stored = argon2i.hash("Correct horse 7 battery")
    assert hashing.verify(stored, "Correct horse 7 battery") == PasswordCheck(ok=True, needs_rehash=True)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "not a hash",
        "$argon2id$",
        "$argon2id$v=19$m=8,t=1,p=1$garbage",
        "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0$",
        "$argon2id$v=19$m=1,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$c2FsdHNhbHRzYWx0c2FsdHNhbHRzYWx0c2FsdA",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",  # bcrypt
        "$argon2id$v=19$m=8,t=1,p=1$\u00e9t\u00e9$\u00e9t\u00e9",  # not ASCII
        "\x00" * 10,
    ],
)
def test_garbled_hash_is_refused_without_raising(hashing: PasswordHashing, stored: str) -> None:
    assert hashing.verify(stored, "Correct horse 7 battery") == REFUSED


def test_truncated_hash_is_refused(hashing: PasswordHashing) -> None:
    stored = hashing.hash("Correct horse 7 battery")
    assert hashing.verify(stored[:-5], "Correct horse 7 battery") == REFUSED


def test_unencodable_password_is_refused_not_raised(hashing: PasswordHashing) -> None:
    stored = hashing.hash("Correct horse 7 battery")
    assert hashing.verify(stored, "lone \ud800 surrogate 1") == REFUSED
    with pytest.raises(ValueError, match="surrogate"):
        hashing.hash("lone \ud800 surrogate 1")


def test_length_cap(hashing: PasswordHashing) -> None:
    longest = "a1" * (MAX_PASSWORD_LENGTH // 2)
    assert hashing.verify(hashing.hash(longest), longest) == OK
    with pytest.raises(ValueError, match="too long"):
        hashing.hash(longest + "x")
    with pytest.raises(ValueError, match="too long"):
        hashing.hash("x" * 100_000)
    assert hashing.verify(hashing.hash(longest), "x" * 100_000) == REFUSED


def test_dummy_verify_refuses_and_does_a_full_verification(hashing: PasswordHashing) -> None:
    assert hashing.dummy_verify("Correct horse 7 battery") == REFUSED
    assert hashing.dummy_verify("x" * 100_000) == REFUSED
    # Same cost as a real check: the dummy hash carries exactly the instance's parameters, and argon2
    # accepts it and runs to the end (a mismatch, not a parse error).
    dummy = hashing._dummy_hash
    raw = PasswordHasher(
        time_cost=CHEAP_TEST_PARAMETERS.time_cost,
        memory_cost=CHEAP_TEST_PARAMETERS.memory_cost,
        parallelism=CHEAP_TEST_PARAMETERS.parallelism,
        hash_len=CHEAP_TEST_PARAMETERS.hash_len,
        salt_len=CHEAP_TEST_PARAMETERS.salt_len,
        type=Type.ID,
    )
    assert not raw.check_needs_rehash(dummy)
    with pytest.raises(VerifyMismatchError):
        raw.verify(dummy, "Correct horse 7 battery")


def test_production_parameters_meet_owasp_minimum() -> None:
    # OWASP Password Storage Cheat Sheet: argon2id with one of these (memory KiB, iterations) at p=1.
    owasp_minimums = [(47_104, 1), (19_456, 2), (12_288, 3), (9_216, 4), (7_168, 5)]
    p = PASSWORD_HASHER_PARAMETERS
    assert p.parallelism >= 1
    assert any(p.memory_cost >= m and p.time_cost >= t for m, t in owasp_minimums)
    assert p.salt_len >= 16
    assert p.hash_len >= 32


def test_parameters_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        PASSWORD_HASHER_PARAMETERS.memory_cost = 8  # type: ignore[misc]
    assert isinstance(PASSWORD_HASHER_PARAMETERS, Argon2Parameters)


def test_module_functions_use_production_parameters() -> None:
    """One real-cost round trip (~0.1 s each step on the project's machine)."""
    stored = passwords.hash_password("Correct horse 7 battery")
    p = PASSWORD_HASHER_PARAMETERS
    assert stored.startswith(f"$argon2id$v=19$m={p.memory_cost},t={p.time_cost},p={p.parallelism}$")
    assert passwords.verify_password(stored, "Correct horse 7 battery") == OK
    assert passwords.dummy_verify("Correct horse 7 battery") == REFUSED


def test_module_verify_asks_to_rehash_cheap_hashes(hashing: PasswordHashing) -> None:
    stored = hashing.hash("Correct horse 7 battery")
    assert passwords.verify_password(stored, "Correct horse 7 battery") == PasswordCheck(
        ok=True, needs_rehash=True
    )
    assert passwords.verify_password("garbage", "Correct horse 7 battery") == REFUSED
