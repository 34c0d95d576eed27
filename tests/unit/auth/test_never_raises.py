"""Whatever a client types, the checks answer rather than raise."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.auth.passwords import CHEAP_TEST_PARAMETERS, PasswordHashing, check_password_policy
from gateway.auth.tokens import token_digest
from gateway.auth.totp import hash_recovery_code, normalise_totp_code, verify_totp

HASHING = PasswordHashing(CHEAP_TEST_PARAMETERS)
STORED = HASHING.hash("Correct horse 7 battery")
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
KEY = bytes(32)


@settings(max_examples=150, deadline=None)
@given(password=st.text(max_size=200), email=st.none() | st.text(max_size=60))
def test_policy_answers_any_text(password: str, email: str | None) -> None:
    problems = check_password_policy(password, email=email)
    assert all(problem.message for problem in problems)


@settings(max_examples=100, deadline=None)
@given(stored=st.text(max_size=120) | st.just(STORED), password=st.text(max_size=60))
def test_verify_answers_any_text(stored: str, password: str) -> None:
    check = HASHING.verify(stored, password)
    assert check.ok is (stored == STORED and password == "Correct horse 7 battery")


@settings(max_examples=150, deadline=None)
@given(code=st.text(max_size=40), last_used=st.none() | st.integers(min_value=0, max_value=2**40))
def test_totp_answers_any_text(code: str, last_used: int | None) -> None:
    step = verify_totp(SECRET, code, last_used_step=last_used)
    assert step is None or normalise_totp_code(code) is not None
    assert len(hash_recovery_code(KEY, code)) == 32
    assert len(token_digest(code)) == 32
