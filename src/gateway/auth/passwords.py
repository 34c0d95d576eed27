"""Admin passwords (SPEC §5): argon2id hashing and the password policy. Pure: no database, no HTTP.

Choosing the argon2id parameters
--------------------------------
Measured with argon2-cffi 25.1 on this project's machine size (2 cores, 24 GiB), one `verify` each,
median of 15-25 runs while other work was running on the machine (so numbers are a little pessimistic):

    profile                                        wall (median)   CPU per hash
    RFC 9106 first  (m=2 GiB,  t=1, p=4)            2 640 ms        5 330 ms
    RFC 9106 second (m=64 MiB, t=3, p=4)            180-264 ms      285 ms
    m=64 MiB, t=1, p=1                              120-143 ms      141 ms
    m=46 MiB, t=2, p=1                              126-152 ms      135 ms
    m=46 MiB, t=1, p=1  (OWASP's first option)      81-101 ms       81 ms    <- chosen
    m=19 MiB, t=2, p=1  (OWASP's second option)     34-40 ms        32 ms
    two logins at once, chosen profile              193 ms each (both cores busy)

Chosen: argon2id, m=46 MiB (47 104 KiB), t=1, p=1, 16-byte salt, 32-byte tag.
- It is OWASP's recommended minimum exactly, and 2.4x the memory of their 19 MiB option: memory is what
  makes GPU/ASIC guessing expensive, so we spend the budget on memory rather than passes.
- ~80-100 ms per login sits in the middle of the 50-150 ms budget, leaving room for a dummy verification
  for unknown accounts, the rehash on the login after a parameter change, and a busy machine.
- p=1: with 2 cores, p=4 buys lower latency by occupying both cores per login (CPU cost 285 ms for the
  RFC's second profile), which halves login throughput and starves the data API. An attacker's cost depends
  on memory x passes, not on p, so p=1 costs them the same.
- RFC 9106's profiles are out of budget here: 2 GiB takes 2.6 s; 64 MiB/t=3/p=4 takes ~180-260 ms.
Raise the parameters when the machines grow; `verify_password` reports `needs_rehash` so stored hashes
follow on each user's next successful login.

Normalisation: passwords are NFKC-normalised before checking and hashing, so the same password typed on
another keyboard or OS (composed vs decomposed accents, full-width digits) still matches.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import re
import secrets
import string
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher, Type
from argon2.exceptions import Argon2Error, VerifyMismatchError
from argon2.low_level import ARGON2_VERSION

MIN_PASSWORD_LENGTH = 8
# argon2 pre-hashes its input with BLAKE2b, so a long password does not weaken or break the hash; the cap
# bounds the work one request can make us do (normalising, policy checks, hashing) and is far above
# anything a person or a password manager uses.
MAX_PASSWORD_LENGTH = 128
# Input longer than this is refused before any work (NFKC can expand text, so it is larger than the cap).
_MAX_INPUT_CHARS = 4 * MAX_PASSWORD_LENGTH

# Zero-width (non-)joiner are format characters that emoji sequences and some scripts need.
_ALLOWED_FORMAT_CHARACTERS = frozenset({"\u200c", "\u200d"})
_AFFIX_CHARACTERS = string.digits + string.punctuation + string.whitespace


@dataclass(frozen=True, slots=True)
class Argon2Parameters:
    """argon2id cost parameters; `memory_cost` is in KiB, as argon2 counts it."""

    memory_cost: int
    time_cost: int
    parallelism: int
    hash_len: int = 32
    salt_len: int = 16


PASSWORD_HASHER_PARAMETERS = Argon2Parameters(memory_cost=47_104, time_cost=1, parallelism=1)

# For tests only: argon2's minimum costs, a fraction of a millisecond per hash. Never use in production.
CHEAP_TEST_PARAMETERS = Argon2Parameters(memory_cost=8, time_cost=1, parallelism=1)


@dataclass(frozen=True, slots=True)
class PasswordCheck:
    ok: bool
    needs_rehash: bool


def normalise_password(password: str) -> str:
    """NFKC, the form in which passwords are checked and hashed."""
    return unicodedata.normalize("NFKC", password)


class PasswordHashing:
    """Hash and verify passwords with one set of argon2id parameters."""

    def __init__(self, parameters: Argon2Parameters = PASSWORD_HASHER_PARAMETERS) -> None:
        self.parameters = parameters
        self._hasher = PasswordHasher(
            time_cost=parameters.time_cost,
            memory_cost=parameters.memory_cost,
            parallelism=parameters.parallelism,
            hash_len=parameters.hash_len,
            salt_len=parameters.salt_len,
            type=Type.ID,
        )

    def hash(self, password: str) -> str:
        """The encoded argon2id hash of the normalised password.

        Run `check_password_policy` first; this only refuses what cannot or should not be hashed.
        Raises ValueError for a password over the length cap or holding unencodable characters.
        """
        if len(password) > _MAX_INPUT_CHARS:
            raise ValueError("password is too long to hash")
        normalised = normalise_password(password)
        if len(normalised) > MAX_PASSWORD_LENGTH:
            raise ValueError("password is too long to hash")
        return self._hasher.hash(normalised)

    def verify(self, stored_hash: str, password: str) -> PasswordCheck:
        """Whether `password` matches `stored_hash`; never raises on a wrong, garbled or foreign hash."""
        if len(password) > _MAX_INPUT_CHARS:
            return PasswordCheck(ok=False, needs_rehash=False)
        normalised = normalise_password(password)
        try:
            self._hasher.verify(stored_hash, normalised)
        except VerifyMismatchError:
            return PasswordCheck(ok=False, needs_rehash=False)
        except (Argon2Error, ValueError, TypeError):
            # A garbled or foreign hash fails fast; spend the usual time so it does not stand out.
            self.dummy_verify(password)
            return PasswordCheck(ok=False, needs_rehash=False)
        try:
            needs_rehash = self._hasher.check_needs_rehash(stored_hash)
        except ValueError:  # pragma: no cover - verify() succeeded, so the hash parses
            needs_rehash = True
        return PasswordCheck(ok=True, needs_rehash=needs_rehash)

    def dummy_verify(self, password: str) -> PasswordCheck:
        """Spend what a real verification costs, for an unknown account (no enumeration by timing)."""
        if len(password) <= _MAX_INPUT_CHARS:
            with contextlib.suppress(Argon2Error, ValueError):
                self._hasher.verify(self._dummy_hash, normalise_password(password))
        return PasswordCheck(ok=False, needs_rehash=False)

    @functools.cached_property
    def _dummy_hash(self) -> str:
        # A well-formed hash with our parameters and a random salt and tag: verifying against it runs the
        # full argon2id computation and then mismatches. Built without hashing, so the first unknown-account
        # login costs the same as every later one.
        def b64(length: int) -> str:
            return base64.b64encode(secrets.token_bytes(length)).decode("ascii").rstrip("=")

        p = self.parameters
        return (
            f"$argon2id$v={ARGON2_VERSION}$m={p.memory_cost},t={p.time_cost},p={p.parallelism}"
            f"${b64(p.salt_len)}${b64(p.hash_len)}"
        )


_default_hashing = PasswordHashing()


def hash_password(password: str) -> str:
    """The argon2id hash of `password` with `PASSWORD_HASHER_PARAMETERS`."""
    return _default_hashing.hash(password)


def verify_password(stored_hash: str, password: str) -> PasswordCheck:
    """Check `password` against `stored_hash`; `needs_rehash` asks the caller to store a fresh hash."""
    return _default_hashing.verify(stored_hash, password)


def dummy_verify(password: str) -> PasswordCheck:
    """As costly as `verify_password`, always ok=False: call it when the account does not exist."""
    return _default_hashing.dummy_verify(password)


class PolicyCode(StrEnum):
    TOO_SHORT = "password_too_short"
    TOO_LONG = "password_too_long"
    NO_LETTER = "password_needs_letter"
    NO_DIGIT = "password_needs_digit"
    COMMON = "password_too_common"
    CONTAINS_EMAIL = "password_contains_email"
    CONTROL_CHARACTERS = "password_has_control_characters"


_MESSAGES: dict[PolicyCode, str] = {
    PolicyCode.TOO_SHORT: f"Use at least {MIN_PASSWORD_LENGTH} characters.",
    PolicyCode.TOO_LONG: f"Use at most {MAX_PASSWORD_LENGTH} characters.",
    PolicyCode.NO_LETTER: "Include at least one letter.",
    PolicyCode.NO_DIGIT: "Include at least one digit (0-9).",
    PolicyCode.COMMON: (
        "This password is too common: it is on a list of passwords that attackers try first. "
        "Choose something less predictable, such as a few unrelated words."
    ),
    PolicyCode.CONTAINS_EMAIL: "Do not use your email address, or part of it, in your password.",
    PolicyCode.CONTROL_CHARACTERS: "Remove tabs, line breaks and other invisible control characters.",
}


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    code: PolicyCode
    message: str


def _problem(code: PolicyCode) -> PolicyProblem:
    return PolicyProblem(code, _MESSAGES[code])


def policy_message(code: str) -> str | None:
    """The plain-English message for a policy code (pages show it after a redirect), or None."""
    try:
        return _MESSAGES[PolicyCode(code)]
    except ValueError:
        return None


@functools.cache
def common_passwords() -> frozenset[str]:
    """The 30 000 most common leaked passwords from zxcvbn's frequency lists, case-folded."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # ~0.8 MB module: load it on first use only

    return frozenset(word.casefold() for word in FREQUENCY_LISTS["passwords"])


def is_common_password(password: str) -> bool:
    """On the common list as typed, or once digits/punctuation around a common core are stripped."""
    folded = normalise_password(password).casefold()
    candidates = {
        folded,
        folded.strip(),
        folded.rstrip(string.punctuation + string.whitespace),  # "12345678!"
        folded.rstrip(_AFFIX_CHARACTERS),  # "password1!"
        folded.strip(_AFFIX_CHARACTERS),  # "!!password2024"
    }
    common = common_passwords()
    return any(candidate in common for candidate in candidates)


def _is_control(character: str) -> bool:
    category = unicodedata.category(character)
    return category in {"Cc", "Cs"} or (category == "Cf" and character not in _ALLOWED_FORMAT_CHARACTERS)


def check_password_policy(password: str, *, email: str | None = None) -> list[PolicyProblem]:
    """Every way `password` breaks the policy (SPEC §5), in a stable order; empty when it is acceptable."""
    if len(password) > _MAX_INPUT_CHARS:
        return [_problem(PolicyCode.TOO_LONG)]
    normalised = normalise_password(password)
    problems: list[PolicyProblem] = []
    if len(normalised) < MIN_PASSWORD_LENGTH:
        problems.append(_problem(PolicyCode.TOO_SHORT))
    if len(normalised) > MAX_PASSWORD_LENGTH:
        problems.append(_problem(PolicyCode.TOO_LONG))
    if not any(character.isalpha() for character in normalised):
        problems.append(_problem(PolicyCode.NO_LETTER))
    if not any(character.isdecimal() for character in normalised):
        problems.append(_problem(PolicyCode.NO_DIGIT))
    if any(_is_control(character) for character in normalised):
        problems.append(_problem(PolicyCode.CONTROL_CHARACTERS))
    if is_common_password(normalised):
        problems.append(_problem(PolicyCode.COMMON))
    if email is not None and _contains_email(normalised, email):
        problems.append(_problem(PolicyCode.CONTAINS_EMAIL))
    return problems


# A local part this short ("jo", "vb") turns up inside innocent words ("enjoy", "obvious"), so it counts only
# as it is typed and as a word of its own (between non-letters, or repeated: "VB-vb-2026", "vbvb 2026").
# Longer parts and the whole address count anywhere, also with zxcvbn's l33t substitutions.
_SHORT_LOCAL_PART = 2


@functools.cache
def _l33t_alternatives() -> dict[str, str]:
    """Each letter and the characters zxcvbn's matcher reads as it ("a": "4@", "o": "0" …)."""
    from zxcvbn.matching import L33T_TABLE  # loaded with the common list: the same package

    return {letter: "".join(symbols) for letter, symbols in L33T_TABLE.items()}


def _as_typed(text: str) -> str:
    """A pattern for `text` with zxcvbn's substitutions allowed at each letter ("jo" -> "j[o0]")."""
    alternatives = _l33t_alternatives()
    return "".join(
        f"[{re.escape(char + alternatives[char])}]" if char in alternatives else re.escape(char)
        for char in text
    )


@dataclass(frozen=True, slots=True)
class _EmailPatterns:
    anywhere: tuple[re.Pattern[str], ...]  # each finds every (overlapping) start, the text in group 1
    as_word: tuple[re.Pattern[str], ...]


@functools.lru_cache(maxsize=256)
def _email_patterns(email: str) -> _EmailPatterns:
    """The user inputs zxcvbn would be given for `email` (`zxcvbn(password, user_inputs=…)`): the whole
    address and its local part, each also without a "+tag" ("head+gateway@…"), case-folded. Matched here
    with one linear pattern each rather than by zxcvbn, whose l33t enumeration multiplies with every
    substitutable character (about a second for 128 of them) and which keeps the inputs in a module-wide
    dictionary."""
    address = normalise_password(email).casefold().strip()
    local, at, domain = address.rpartition("@")
    if not at:
        local, domain = address, ""
    untagged = local.partition("+")[0]
    inputs = {local, untagged}
    if domain:
        inputs |= {address, f"{untagged}@{domain}"}
    texts = sorted(text for text in inputs if text and not text.startswith("@"))
    return _EmailPatterns(
        anywhere=tuple(
            re.compile(f"(?=({_as_typed(text)}))") for text in texts if len(text) > _SHORT_LOCAL_PART
        ),
        as_word=tuple(
            re.compile(rf"(?<![^\W\d_])(?:{re.escape(text)})+(?![^\W\d_])")
            for text in texts
            if len(text) <= _SHORT_LOCAL_PART
        ),
    )


def _contains_email(normalised: str, email: str) -> bool:
    """Whether the password holds the address or its local part, forwards or backwards. A match made only
    of substitutes ("411" for "ali") is a number, not the name: it needs at least one letter."""
    patterns = _email_patterns(email)
    folded = normalised.casefold()
    for text in (folded, folded[::-1]):
        if any(pattern.search(text) for pattern in patterns.as_word):
            return True
        for pattern in patterns.anywhere:
            if any(_has_letter(match.group(1)) for match in pattern.finditer(text)):
                return True
    return False


def _has_letter(text: str) -> bool:
    return any(character.isalpha() for character in text)
