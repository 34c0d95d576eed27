"""UK identifier checks for MIS records: UPN, ULN, NHS number, postcode and LA number. Pure functions.

The `is_valid_*` checks accept only the canonical form an MIS stores (upper case, no spaces), because
these identifiers are compared for equality: accepting "p207000016049" as valid would let two spellings
of one pupil's UPN coexist. Callers holding typed-in values pass them through the matching `normalise_*`
function first. Postcodes are address text rather than keys, so `is_uk_postcode` normalises by itself.
"""

from __future__ import annotations

import re
from typing import Final

from gateway.mis.la_codes import LA_CODES

__all__ = [
    "UPN_LETTERS",
    "is_uk_postcode",
    "is_valid_la_code",
    "is_valid_nhs_number",
    "is_valid_uln",
    "is_valid_upn",
    "make_temporary_upn",
    "make_upn",
    "normalise_nhs_number",
    "normalise_postcode",
    "normalise_upn",
    "upn_check_letter",
]

UPN_LETTERS: Final = "ABCDEFGHJKLMNPQRTUVWXYZ"
"""The 23 letters a UPN uses (A-Z without I, O and S); a letter's value is its index (A=0 ... Z=22)."""

_DIGITS: Final = frozenset("0123456789")
_UPN_LETTER_VALUE: Final = {letter: value for value, letter in enumerate(UPN_LETTERS)}
_CHAR_VALUE: Final = {**{digit: int(digit) for digit in "0123456789"}, **_UPN_LETTER_VALUE}
_ASCII_DIGITS: Final = re.compile(r"[0-9]+", re.ASCII)

# BS 7666 shape: outward code A9, A99, AA9, AA99, A9A or AA9A, then inward code 9AA, one space between.
# Letters barred by position: 1st Q V X; 2nd I J Z; 3rd (A9A) only A-H J K P S T U W; 4th (AA9A) only
# A B E H M N P R V W X Y; inward never C I K M O V. "GIR 0AA" is the one historic exception.
_POSTCODE: Final = re.compile(
    r"GIR 0AA"
    r"|(?:[A-PR-UWYZ][0-9][0-9]?"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?"
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])"
    r" [0-9][ABD-HJLNP-UW-Z]{2}"
)


def _is_digits(value: str, length: int) -> bool:
    """Exactly `length` ASCII digits (str.isdigit would also accept '²' and other scripts' digits)."""
    return len(value) == length and _ASCII_DIGITS.fullmatch(value) is not None


def _compact(value: str) -> str:
    """Drop all whitespace; upper-case ASCII text only, so no non-ASCII look-alike turns into a letter."""
    compact = "".join(value.split())
    return compact.upper() if compact.isascii() else compact


# --- LA number --------------------------------------------------------------------------------------------


def is_valid_la_code(code: str) -> bool:
    """Whether `code` is a recognised 3-digit English LA number (or pseudo-LA code), e.g. "201"."""
    return code in LA_CODES


# --- UPN --------------------------------------------------------------------------------------------------


def upn_check_letter(body12: str) -> str:
    """The check letter (character 1) for UPN characters 2-13.

    Characters 2-13 are weighted 2-13 and summed; the remainder mod 23 indexes `UPN_LETTERS`. Character 13
    is a digit, or for a temporary UPN a letter counting as its value in `UPN_LETTERS`. Raises ValueError
    when `body12` is not 11 digits followed by a digit or one of `UPN_LETTERS`. The LA number is not
    checked here (see `is_valid_upn`).
    """
    if not _is_upn_body(body12):
        raise ValueError("a UPN body is 11 digits then a digit or a letter other than I, O and S")
    return _check_letter(body12)


def _check_letter(body12: str) -> str:
    # On the hot path of every batch: a precomputed value table, no per-character branching.
    total = sum(weight * _CHAR_VALUE[char] for weight, char in zip(_WEIGHTS, body12, strict=True))
    return UPN_LETTERS[total % 23]


_WEIGHTS: Final = tuple(range(2, 14))


def _is_upn_body(body12: str) -> bool:
    return (
        len(body12) == 12
        and _is_digits(body12[:11], 11)
        and (body12[11] in _DIGITS or body12[11] in _UPN_LETTER_VALUE)
    )


def normalise_upn(value: str) -> str:
    """A typed-in UPN in canonical form: whitespace removed, upper case. Does not validate."""
    return _compact(value)


def is_valid_upn(value: str) -> bool:
    """Whether `value` is a well-formed permanent or temporary UPN in canonical form.

    13 characters: the check letter, a recognised 3-digit LA number, a 4-digit establishment number, a
    2-digit year of issue and a 3-digit serial; a temporary UPN has a 2-digit serial and a final letter
    (A-Z without I, O and S). Lower case and spaces are rejected: see `normalise_upn`.
    """
    if len(value) != 13 or value[0] not in _UPN_LETTER_VALUE:
        return False
    body = value[1:]
    if not _is_upn_body(body) or not is_valid_la_code(body[:3]):
        return False
    return _check_letter(body) == value[0]


def make_upn(la_code: str, establishment: str, year2: str, serial3: str) -> str:
    """A permanent UPN from its parts, with the check letter in front, e.g. ("207", "0000", "16", "049").

    Raises ValueError for an unrecognised LA number or parts of the wrong length or not digits.
    """
    _check_upn_parts(la_code, establishment, year2)
    if not _is_digits(serial3, 3):
        raise ValueError("a UPN serial number is 3 digits")
    body = la_code + establishment + year2 + serial3
    return upn_check_letter(body) + body


def make_temporary_upn(la_code: str, establishment: str, year2: str, serial2: str, letter: str) -> str:
    """A temporary UPN: as `make_upn` but with a 2-digit serial and a final letter (not I, O or S)."""
    _check_upn_parts(la_code, establishment, year2)
    if not _is_digits(serial2, 2):
        raise ValueError("a temporary UPN serial number is 2 digits")
    if letter not in _UPN_LETTER_VALUE:
        raise ValueError("a temporary UPN ends with a capital letter other than I, O and S")
    body = la_code + establishment + year2 + serial2 + letter
    return upn_check_letter(body) + body


def _check_upn_parts(la_code: str, establishment: str, year2: str) -> None:
    if not is_valid_la_code(la_code):
        raise ValueError("the LA number is not a recognised 3-digit LA code")
    if not _is_digits(establishment, 4):
        raise ValueError("an establishment number is 4 digits")
    if not _is_digits(year2, 2):
        raise ValueError("a UPN year of issue is 2 digits")


# --- ULN --------------------------------------------------------------------------------------------------


def is_valid_uln(value: str) -> bool:
    """Whether `value` is a Unique Learner Number: 10 digits, the first not 0, passing the mod-11 check.

    The digits are weighted 10 down to 1; the sum mod 11 must be 10 (9276308686 -> 296 -> 10).
    """
    if not _is_digits(value, 10) or value[0] == "0":
        return False
    return sum(weight * int(digit) for weight, digit in zip(range(10, 0, -1), value, strict=True)) % 11 == 10


# --- NHS number -------------------------------------------------------------------------------------------


def normalise_nhs_number(value: str) -> str:
    """A typed-in NHS number ("943 476 5919", "943-476-5919") as 10 bare digits. Does not validate."""
    return _compact(value).replace("-", "")


def is_valid_nhs_number(value: str) -> bool:
    """Whether `value` is 10 digits whose last is the NHS mod-11 check digit of the first nine.

    The first nine digits are weighted 10 down to 2; the check digit is 11 minus the sum mod 11, with 11
    meaning 0; a result of 10 means no valid number has those nine digits. Spaces are rejected: see
    `normalise_nhs_number`.
    """
    if not _is_digits(value, 10):
        return False
    total = sum(weight * int(digit) for weight, digit in zip(range(10, 1, -1), value[:9], strict=True))
    check = (11 - total % 11) % 11
    return check != 10 and check == int(value[9])


# --- Postcode ---------------------------------------------------------------------------------------------


def normalise_postcode(value: str) -> str:
    """A postcode in canonical form: upper case, one space before the 3-character inward code.

    "sw1a1aa" and " SW1A  1AA " both become "SW1A 1AA". Does not validate; text too short to hold an
    inward code comes back compacted.
    """
    compact = _compact(value)
    if len(compact) < 5:
        return compact
    return f"{compact[:-3]} {compact[-3:]}"


def is_uk_postcode(value: str) -> bool:
    """Whether `value`, once normalised, has the shape of a UK postcode (BS 7666); not whether it exists."""
    return _POSTCODE.fullmatch(normalise_postcode(value)) is not None
