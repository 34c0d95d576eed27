"""Recovery codes: shape, strength, uniqueness, normalisation and a stable keyed hash."""

from __future__ import annotations

import hashlib
import hmac
import math
import re

import pytest

from gateway.auth.totp import (
    RECOVERY_CODE_ALPHABET,
    RECOVERY_CODE_GROUP_LENGTH,
    RECOVERY_CODE_GROUPS,
    hash_recovery_code,
    new_recovery_codes,
    normalise_recovery_code,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


def test_ten_codes_by_default_in_readable_groups() -> None:
    codes = new_recovery_codes()
    assert len(codes) == 10
    group = f"[{RECOVERY_CODE_ALPHABET}]{{4}}"
    for code in codes:
        assert re.fullmatch(f"{group}-{group}-{group}", code)


def test_codes_are_unique() -> None:
    codes = new_recovery_codes(200)
    assert len(set(codes)) == 200
    assert len({normalise_recovery_code(c) for c in new_recovery_codes(10) + new_recovery_codes(10)}) == 20


def test_alphabet_has_no_lookalikes() -> None:
    assert not set("01ilo") & set(RECOVERY_CODE_ALPHABET)
    assert len(set(RECOVERY_CODE_ALPHABET)) == len(RECOVERY_CODE_ALPHABET)


def test_each_code_carries_at_least_50_bits() -> None:
    bits = RECOVERY_CODE_GROUPS * RECOVERY_CODE_GROUP_LENGTH * math.log2(len(RECOVERY_CODE_ALPHABET))
    assert bits >= 50


def test_count_must_be_positive() -> None:
    assert len(new_recovery_codes(1)) == 1
    with pytest.raises(ValueError, match="at least 1"):
        new_recovery_codes(0)


@pytest.mark.parametrize(
    "typed", ["abcd-efgh-jkmn", "ABCD-EFGH-JKMN", "abcdefghjkmn", " abcd efgh-jkmn\n", "Ab-cd-Ef-gh-Jk-mn"]
)
def test_normalisation(typed: str) -> None:
    assert normalise_recovery_code(typed) == "abcdefghjkmn"


def test_hash_is_stable_across_formatting() -> None:
    digest = hash_recovery_code(KEY, "abcd-efgh-jkmn")
    assert len(digest) == 32
    assert digest == hmac.new(KEY, b"abcdefghjkmn", hashlib.sha256).digest()
    assert hash_recovery_code(KEY, "ABCD EFGH JKMN") == digest
    assert hash_recovery_code(KEY, "abcdefghjkmn") == digest


def test_hash_depends_on_key_and_code() -> None:
    digest = hash_recovery_code(KEY, "abcd-efgh-jkmn")
    assert hash_recovery_code(OTHER_KEY, "abcd-efgh-jkmn") != digest
    assert hash_recovery_code(KEY, "abcd-efgh-jkmp") != digest


def test_hashing_key_must_be_a_real_secret() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        hash_recovery_code(b"short", "abcd-efgh-jkmn")


def test_hash_accepts_any_input() -> None:
    assert len(hash_recovery_code(KEY, "\ud800 \u00e9 " * 100)) == 32
