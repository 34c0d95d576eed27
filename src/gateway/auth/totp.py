"""TOTP second factor (RFC 6238, SPEC §5) and single-use recovery codes. Pure: no database, no HTTP.

Codes are 6 digits, 30-second steps, HMAC-SHA-1: the defaults every authenticator app understands.
A code is accepted for the current step and one step either side (clock drift), and only for a step later
than the last one the account used, so an observed code cannot be replayed. The caller stores the returned
step as the account's new `last_used_step`.

Recovery codes are shown once, stored as HMAC-SHA-256 under a server secret (like API keys), and each
works once. With ~59 random bits each and a keyed hash, a stolen table alone cannot test guesses.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime

import pyotp
import segno

TOTP_DIGITS = 6
TOTP_STEP_SECONDS = 30
TOTP_ACCEPTED_DRIFT_STEPS = 1
_TOTP_SECRET_BYTES = 20  # 160 bits, RFC 4226 §4's recommended length
_TOTP_CODE = re.compile(r"[0-9]{6}")
_MAX_CODE_INPUT_CHARS = 32

# No 0/o, 1/l/i: the codes are read off paper and typed by hand.
RECOVERY_CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
RECOVERY_CODE_GROUPS = 3
RECOVERY_CODE_GROUP_LENGTH = 4  # 12 characters from 31: log2(31) * 12 ≈ 59.4 bits
_MIN_HASHING_KEY_BYTES = 32

DEFAULT_QR_TITLE = "QR code to add this account to your authenticator app"


def new_totp_secret() -> str:
    """A fresh 160-bit secret, base32 without padding (32 characters), as authenticator apps expect."""
    return base64.b32encode(secrets.token_bytes(_TOTP_SECRET_BYTES)).decode("ascii")


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS)


def provisioning_uri(secret: str, *, account_name: str, issuer: str) -> str:
    """The `otpauth://totp/...` URI (Key URI Format) to put in the enrolment QR code."""
    if not account_name or not issuer:
        raise ValueError("account_name and issuer must not be empty")
    return _totp(secret).provisioning_uri(name=account_name, issuer_name=issuer)


def qr_code_svg(uri: str, *, title: str = DEFAULT_QR_TITLE) -> str:
    """Inline SVG markup (no XML declaration, no scripts) of `uri` as a QR code, titled for screen readers.

    Dark modules on a white background with the standard 4-module quiet zone, so it scans on dark pages.
    One user unit per module and a `viewBox` instead of a fixed width and height: the page's CSS sets the
    size and the whole code, quiet zone included, scales into it (without a `viewBox`, a CSS width crops
    the drawing instead). `crispEdges` keeps module edges sharp at any size.
    """
    markup = segno.make(uri, error="m", micro=False).svg_inline(
        scale=1,
        border=4,
        dark="#000",
        light="#fff",
        title=title,
        svgclass="totp-qr",
        lineclass=None,
        omitsize=True,
    )
    # segno writes <title> as the first child; role="img" makes screen readers announce it as the name.
    return markup.replace("<svg ", '<svg role="img" shape-rendering="crispEdges" ', 1)


def totp_step(at: datetime) -> int:
    """The 30-second time step that `at` (timezone-aware) falls in."""
    if at.tzinfo is None:
        raise ValueError("`at` must be timezone-aware")
    return int(at.timestamp()) // TOTP_STEP_SECONDS


def normalise_totp_code(code: str) -> str | None:
    """The 6 ASCII digits of `code` with spaces removed ("123 456"), or None if it is anything else."""
    if len(code) > _MAX_CODE_INPUT_CHARS:
        return None
    compact = "".join(code.split())
    return compact if _TOTP_CODE.fullmatch(compact) else None


def verify_totp(
    secret: str, code: str, *, last_used_step: int | None, at: datetime | None = None
) -> int | None:
    """The time step `code` was issued for, if it is valid within ±1 step and later than `last_used_step`.

    None for a wrong, malformed, expired or replayed code. Every candidate step is compared in constant
    time (`hmac.compare_digest`) and all of them are always computed, so timing reveals nothing about
    which step, if any, matched.
    """
    current = totp_step(at if at is not None else datetime.now(UTC))
    candidate = normalise_totp_code(code)
    if candidate is None:
        return None
    totp = _totp(secret)
    presented = candidate.encode("ascii")
    matched: int | None = None
    for step in range(current - TOTP_ACCEPTED_DRIFT_STEPS, current + TOTP_ACCEPTED_DRIFT_STEPS + 1):
        expected = totp.generate_otp(step).encode("ascii")
        fresh = last_used_step is None or step > last_used_step
        if hmac.compare_digest(expected, presented) and fresh:
            matched = step
    return matched


def new_recovery_codes(n: int = 10) -> list[str]:
    """`n` distinct codes like `abcd-efgh-jkmn`, to show the admin once."""
    if n < 1:
        raise ValueError("n must be at least 1")
    codes: list[str] = []
    while len(codes) < n:
        code = "-".join(
            "".join(secrets.choice(RECOVERY_CODE_ALPHABET) for _ in range(RECOVERY_CODE_GROUP_LENGTH))
            for _ in range(RECOVERY_CODE_GROUPS)
        )
        if code not in codes:
            codes.append(code)
    return codes


def normalise_recovery_code(code: str) -> str:
    """Lower case with dashes and whitespace removed: "ABCD-efgh jkmn" -> "abcdefghjkmn"."""
    return "".join(code.split()).replace("-", "").lower()


def hash_recovery_code(hashing_key: bytes, code: str) -> bytes:
    """HMAC-SHA-256 of the normalised code under a server secret (at least 32 bytes)."""
    if len(hashing_key) < _MIN_HASHING_KEY_BYTES:
        raise ValueError("hashing_key must be at least 32 bytes")
    normalised = normalise_recovery_code(code)
    return hmac.new(hashing_key, normalised.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
