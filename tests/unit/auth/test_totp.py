"""TOTP enrolment and verification (RFC 6238): drift window, replay refusal, code shapes, the QR code."""

from __future__ import annotations

import base64
import hmac
import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from gateway.auth.totp import (
    new_totp_secret,
    normalise_totp_code,
    provisioning_uri,
    qr_code_svg,
    totp_step,
    verify_totp,
)

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
AT = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)
STEP = int(AT.timestamp()) // 30


def code_at(when: datetime, secret: str = SECRET) -> str:
    return pyotp.TOTP(secret).at(when)


def test_secret_is_160_bit_base32() -> None:
    secret = new_totp_secret()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert len(base64.b32decode(secret)) == 20
    assert len({new_totp_secret() for _ in range(50)}) == 50


def test_rfc_6238_vector() -> None:
    # RFC 6238 Appendix B, SHA-1, T=59 s: 94287082; authenticator apps show the last 6 digits.
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert verify_totp(secret, "287082", last_used_step=None, at=datetime.fromtimestamp(59, UTC)) == 1


def test_code_for_now_is_accepted_and_returns_its_step() -> None:
    assert totp_step(AT) == STEP
    assert verify_totp(SECRET, code_at(AT), last_used_step=None, at=AT) == STEP


def test_previous_and_next_steps_are_accepted_for_clock_drift() -> None:
    assert verify_totp(SECRET, code_at(AT - timedelta(seconds=30)), last_used_step=None, at=AT) == STEP - 1
    assert verify_totp(SECRET, code_at(AT + timedelta(seconds=30)), last_used_step=None, at=AT) == STEP + 1


def test_two_steps_away_is_refused() -> None:
    assert verify_totp(SECRET, code_at(AT - timedelta(seconds=60)), last_used_step=None, at=AT) is None
    assert verify_totp(SECRET, code_at(AT + timedelta(seconds=60)), last_used_step=None, at=AT) is None


def test_replay_of_the_same_step_is_refused() -> None:
    code = code_at(AT)
    step = verify_totp(SECRET, code, last_used_step=None, at=AT)
    assert step == STEP
    assert verify_totp(SECRET, code, last_used_step=step, at=AT) is None
    # Still refused 20 seconds later, while the code is inside the drift window.
    assert verify_totp(SECRET, code, last_used_step=step, at=AT + timedelta(seconds=20)) is None


def test_older_step_is_refused_after_a_newer_one_was_used() -> None:
    previous = code_at(AT - timedelta(seconds=30))
    assert verify_totp(SECRET, previous, last_used_step=STEP, at=AT) is None
    assert verify_totp(SECRET, previous, last_used_step=STEP - 2, at=AT) == STEP - 1


def test_next_code_after_a_used_step_is_accepted() -> None:
    later = AT + timedelta(seconds=30)
    assert verify_totp(SECRET, code_at(later), last_used_step=STEP, at=later) == STEP + 1


def test_wrong_code_is_refused() -> None:
    window = {code_at(AT + timedelta(seconds=30 * offset)) for offset in (-1, 0, 1)}
    wrong = next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in window)
    assert verify_totp(SECRET, wrong, last_used_step=None, at=AT) is None


def test_code_for_another_secret_is_refused() -> None:
    other = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
    assert verify_totp(SECRET, code_at(AT, other), last_used_step=None, at=AT) is None


@pytest.mark.parametrize("shape", ["{} {}", " {}{} ", "{}\u00a0{}", "{}  {}\n"])
def test_spaces_are_tolerated(shape: str) -> None:
    code = code_at(AT)
    assert verify_totp(SECRET, shape.format(code[:3], code[3:]), last_used_step=None, at=AT) == STEP


@pytest.mark.parametrize(
    "code",
    [
        "",
        "12345",
        "1234567",
        "12a456",
        "abcdef",
        "123-456",
        "+12345",
        "\uff11\uff12\uff13\uff14\uff15\uff16",  # full-width digits
        "\u0661\u0662\u0663\u0664\u0665\u0666",  # Arabic-Indic digits
        "1" * 10_000,
    ],
)
def test_anything_but_six_digits_is_refused(code: str) -> None:
    assert normalise_totp_code(code) is None
    assert verify_totp(SECRET, code, last_used_step=None, at=AT) is None


def test_wrong_length_of_a_real_code_is_refused() -> None:
    code = code_at(AT)
    assert verify_totp(SECRET, code[:5], last_used_step=None, at=AT) is None
    assert verify_totp(SECRET, code + "0", last_used_step=None, at=AT) is None


def test_default_time_is_now() -> None:
    step = verify_totp(SECRET, pyotp.TOTP(SECRET).now(), last_used_step=None)
    assert step is not None
    assert abs(step - totp_step(datetime.now(UTC))) <= 1


def test_naive_datetime_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_totp(SECRET, "123456", last_used_step=None, at=datetime(2025, 3, 14, 9, 26, 53))


def test_every_candidate_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []

    def recording_compare(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return a == b

    monkeypatch.setattr(hmac, "compare_digest", recording_compare)
    assert verify_totp(SECRET, code_at(AT - timedelta(seconds=30)), last_used_step=None, at=AT) == STEP - 1
    assert len(calls) == 3  # no early exit on the first match
    calls.clear()
    assert verify_totp(SECRET, "000000", last_used_step=STEP + 5, at=AT) is None
    assert len(calls) == 3


def test_provisioning_uri_round_trips_through_pyotp() -> None:
    uri = provisioning_uri(SECRET, account_name="head@school.sch.uk", issuer="The Gateway")
    assert uri.startswith("otpauth://totp/The%20Gateway:head%40school.sch.uk?")
    parsed = pyotp.parse_uri(uri)
    assert isinstance(parsed, pyotp.TOTP)
    assert parsed.secret == SECRET
    assert parsed.issuer == "The Gateway"
    assert parsed.name == "head@school.sch.uk"
    assert parsed.digits == 6
    assert parsed.interval == 30


@pytest.mark.parametrize(("account_name", "issuer"), [("", "The Gateway"), ("head@school.sch.uk", "")])
def test_provisioning_uri_needs_names(account_name: str, issuer: str) -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        provisioning_uri(SECRET, account_name=account_name, issuer=issuer)


def test_qr_code_is_inline_svg_with_a_title_and_no_scripts() -> None:
    svg = qr_code_svg(provisioning_uri(SECRET, account_name="head@school.sch.uk", issuer="The Gateway"))
    assert svg.startswith('<svg role="img" ')
    assert svg.endswith("</svg>")
    assert "<title>QR code to add this account to your authenticator app</title>" in svg
    assert "<?xml" not in svg
    lowered = svg.lower()
    assert "<script" not in lowered
    assert "href" not in lowered
    assert re.search(r"\son[a-z]+\s*=", lowered) is None
    assert SECRET not in svg  # the secret is only in the modules, never in readable text


def test_qr_code_title_is_escaped() -> None:
    svg = qr_code_svg("otpauth://totp/x?secret=" + SECRET, title="<script>alert(1)</script>")
    assert "<script" not in svg
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>" in svg


def test_qr_code_scales_to_its_box_with_the_quiet_zone() -> None:
    """A `viewBox` and no fixed size: CSS scales the whole code, 4-module quiet zone included, never crops."""
    svg = qr_code_svg(provisioning_uri(SECRET, account_name="head@school.sch.uk", issuer="The Gateway"))
    opening = svg[: svg.index(">") + 1]
    view_box = re.search(r'viewBox="0 0 (\d+) (\d+)"', opening)
    assert view_box is not None, opening
    side = int(view_box.group(1))
    assert side == int(view_box.group(2))
    assert (side - 8 - 17) % 4 == 0  # a QR version's 17 + 4n modules plus 4 light modules each side
    assert re.search(r"\s(width|height)=", opening) is None
    assert f'd="M0 0h{side}v{side}h-{side}z"' in svg  # the light background covers the quiet zone
