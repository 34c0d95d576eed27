"""Signed consent receipts as compact JWS (SPEC §3.6): sign one, check one offline (pure: keys in, text out).

A receipt is a JWS signed ES256 with the gateway's active signing key, header `typ: consent-receipt+jwt`,
`alg`, `kid`; its payload is the receipt's claims as JSON (`consent.receipts` decides them). It is checked
against public JWKs by `kid` (a saved `/.well-known/jwks.json`, or the keys the gateway holds).

A receipt is refused when any byte of it differs from what was signed: the signature covers the header and
the payload, and every segment must be canonical base64url (so even the unused low bits of a segment's last
character, which a lax decoder ignores, cannot be changed without the check failing).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Final

from joserfc import jws
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import ECKey

from gateway.keys.signing_policy import ALGORITHM

RECEIPT_TYPE: Final = "consent-receipt+jwt"
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
_REQUIRED_CLAIMS: Final = ("iss", "jti", "iat", "grant_id", "seq", "decision", "school", "app", "prev_hash")


class ReceiptFault(StrEnum):
    MALFORMED = "malformed"
    UNSUPPORTED_ALGORITHM = "unsupported_algorithm"
    WRONG_TYPE = "wrong_type"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    MISSING_CLAIMS = "missing_claims"


_EXPLAINED: Final = {
    ReceiptFault.MALFORMED: "not a compact JWS in canonical base64url (a byte was changed, added or cut)",
    ReceiptFault.UNSUPPORTED_ALGORITHM: f"its header does not name the algorithm {ALGORITHM}",
    ReceiptFault.WRONG_TYPE: f"its header `typ` is not {RECEIPT_TYPE}: it is not a consent receipt",
    ReceiptFault.UNKNOWN_KEY: "no key of the JWKS has its `kid`",
    ReceiptFault.BAD_SIGNATURE: "its signature does not match its header and claims (it was altered)",
    ReceiptFault.MISSING_CLAIMS: "its claims are not those of a consent receipt",
}


class InvalidReceipt(Exception):
    """The receipt proves nothing; `reason` says why and `kid` names the key it claims (if readable)."""

    def __init__(self, reason: ReceiptFault, kid: str | None = None) -> None:
        super().__init__(_EXPLAINED[reason])
        self.reason = reason
        self.kid = kid


def receipt_hash(token: str) -> str:
    """SHA-256 (hex) of the receipt's compact JWS: the next receipt of the grant names it as `prev_hash`."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def sign_receipt(key: ECKey, claims: Mapping[str, Any]) -> str:
    """The compact JWS of `claims`, signed with a private P-256 key that carries its `kid`."""
    if not key.kid or not key.is_private or key.get("crv") != "P-256":
        raise ValueError("a receipt needs a private P-256 key with a kid")
    header = {"typ": RECEIPT_TYPE, "alg": ALGORITHM, "kid": key.kid}
    payload = json.dumps(claims, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return jws.serialize_compact(header, payload, key, algorithms=[ALGORITHM])


def unverified_claims(token: str) -> dict[str, Any]:
    """The payload of a receipt the gateway itself stored (to show it beside the JWS), without a check."""
    payload = json.loads(_unb64(token.split(".")[1]))
    if not isinstance(payload, dict):
        raise ValueError("a receipt's payload is a JSON object")
    return payload


def verify_receipt(token: str, keys: Mapping[str, Mapping[str, Any]]) -> tuple[str, dict[str, Any]]:
    """Check a receipt against public JWKs by kid; returns (kid, claims) or raises `InvalidReceipt`.

    The header is read before any key is used: `alg` must be ES256 (never `none` or an HMAC) and `typ`
    must be consent-receipt+jwt, so no other JWS the gateway signs (an access token, a checkpoint) passes.
    """
    segments = token.split(".") if isinstance(token, str) else []
    if len(segments) != 3 or not all(_canonical(segment) for segment in segments):
        raise InvalidReceipt(ReceiptFault.MALFORMED)
    try:
        header = json.loads(_unb64(segments[0]))
    except ValueError:
        raise InvalidReceipt(ReceiptFault.MALFORMED) from None
    if not isinstance(header, dict):
        raise InvalidReceipt(ReceiptFault.MALFORMED)
    kid = header.get("kid") if isinstance(header.get("kid"), str) else None
    if header.get("alg") != ALGORITHM:
        raise InvalidReceipt(ReceiptFault.UNSUPPORTED_ALGORITHM, kid)
    if header.get("typ") != RECEIPT_TYPE:
        raise InvalidReceipt(ReceiptFault.WRONG_TYPE, kid)
    jwk = keys.get(kid) if kid is not None else None
    if jwk is None:
        raise InvalidReceipt(ReceiptFault.UNKNOWN_KEY, kid)
    try:
        public = ECKey.import_key({name: str(value) for name, value in jwk.items() if name != "d"})
        verified = jws.deserialize_compact(token, public, algorithms=[ALGORITHM])
    except BadSignatureError:
        raise InvalidReceipt(ReceiptFault.BAD_SIGNATURE, kid) from None
    except (JoseError, ValueError, TypeError):
        raise InvalidReceipt(ReceiptFault.MALFORMED, kid) from None
    try:
        claims = json.loads(verified.payload)
    except ValueError:
        raise InvalidReceipt(ReceiptFault.MISSING_CLAIMS, kid) from None
    if not isinstance(claims, dict) or any(name not in claims for name in _REQUIRED_CLAIMS):
        raise InvalidReceipt(ReceiptFault.MISSING_CLAIMS, kid)
    assert kid is not None
    return kid, claims


def _canonical(segment: str) -> bool:
    """Base64url without padding whose decoding encodes back to exactly the same text."""
    if not _SEGMENT.fullmatch(segment) or len(segment) % 4 == 1:
        return False
    try:
        return base64.urlsafe_b64encode(_unb64(segment)).rstrip(b"=").decode() == segment
    except ValueError:
        return False


def _unb64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
