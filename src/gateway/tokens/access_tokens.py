"""JWT access tokens per RFC 9068 ("JWT Profile for OAuth 2.0 Access Tokens"), SPEC §3.4.

Pure: keys in, token or claims out. Signing and verification go through joserfc; this module decides only
the profile (header, claims) and which tokens to refuse, each with a `RejectReason`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import ECKey

from gateway.keys.signing_policy import ALGORITHM, CLOCK_SKEW, SIGNED_TOKEN_LIFETIME

TOKEN_TYPE = "at+jwt"  # noqa: S105 (a media type, not a secret)
ACCESS_TOKEN_LIFETIME_SECONDS = int(SIGNED_TOKEN_LIFETIME.total_seconds())  # 900
LEEWAY_SECONDS = int(CLOCK_SKEW.total_seconds())  # 30

# RFC 9068 §4: `typ` is "at+jwt" or its full media type "application/at+jwt" (media types ignore case).
_ACCEPTED_TYPES = frozenset({TOKEN_TYPE, f"application/{TOKEN_TYPE}"})
_STRING_CLAIMS = ("iss", "sub", "client_id", "scope", "jti")
_SCHOOL_CLAIMS = ("school_id", "grant_id")
_TIME_CLAIMS = ("iat", "exp")


class RejectReason(StrEnum):
    MALFORMED = "malformed"
    UNSUPPORTED_ALGORITHM = "unsupported_algorithm"
    WRONG_TYPE = "wrong_type"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    MISSING_CLAIMS = "missing_claims"
    INVALID_CLAIMS = "invalid_claims"
    WRONG_ISSUER = "wrong_issuer"
    WRONG_AUDIENCE = "wrong_audience"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"


class InvalidAccessToken(Exception):
    """The token must be refused (RFC 9068 §4). `reason` is for logs and metrics, never for the client:
    RFC 6750 §3.1 answers every one of them with the same `invalid_token`."""

    def __init__(self, reason: RejectReason) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class AccessTokenClaims:
    """The verified claims of RFC 9068 §2.2 plus the gateway's `school_id` and `grant_id`.

    A school token (authorization code, refresh) has both and `sub` is `school:<id>`; an app-level token
    (client_credentials) has neither and `sub` is the client id (RFC 9068 §2.2).
    """

    issuer: str
    subject: str
    audience: tuple[str, ...]
    client_id: str
    scopes: tuple[str, ...]
    school_id: str | None
    grant_id: str | None
    jti: str
    issued_at: datetime
    expires_at: datetime


def mint_access_token(
    key: ECKey,
    *,
    issuer: str,
    client_id: str,
    school_id: object | None,
    grant_id: object | None,
    scopes: Iterable[str],
    audience: str,
    now: datetime,
    lifetime: int = ACCESS_TOKEN_LIFETIME_SECONDS,
) -> tuple[str, str]:
    """Sign an access token with a private P-256 key that carries its `kid`; returns (token, jti).

    Header per RFC 9068 §2.1 (`typ: at+jwt`, `alg`, `kid`); claims per §2.2 (iss, exp, aud, sub, client_id,
    iat, jti) and §2.2.3 (`scope`, space-separated), plus `school_id` and `grant_id` for a school token.
    With neither, it is an app-level token whose subject is the client itself.
    """
    if not key.kid or not key.is_private or key.get("crv") != "P-256":
        raise ValueError("an access token needs a private P-256 key with a kid")
    scope_list = list(scopes)
    if not scope_list or any(not s or " " in s for s in scope_list):
        raise ValueError("scopes must be non-empty tokens without spaces")
    if lifetime <= 0:
        raise ValueError("lifetime must be positive")
    if (school_id is None) != (grant_id is None):
        raise ValueError("a school token needs both school_id and grant_id; an app token neither")
    issued_at = int(now.timestamp())
    jti = secrets.token_urlsafe(24)
    claims: dict[str, object] = {
        "iss": issuer,
        "sub": client_id if school_id is None else f"school:{school_id}",
        "aud": audience,
        "client_id": client_id,
        "scope": " ".join(scope_list),
        "jti": jti,
        "iat": issued_at,
        "exp": issued_at + lifetime,
    }
    if school_id is not None:
        claims |= {"school_id": str(school_id), "grant_id": str(grant_id)}
    header = {"typ": TOKEN_TYPE, "alg": ALGORITHM, "kid": key.kid}
    return jwt.encode(header, claims, key, algorithms=[ALGORITHM]), jti


def verify_access_token(
    token: str,
    keys: Mapping[str, Mapping[str, Any]],
    *,
    issuer: str,
    audience: str,
    now: datetime,
    leeway: int = LEEWAY_SECONDS,
) -> AccessTokenClaims:
    """Validate an access token as RFC 9068 §4 requires, against public JWKs by `kid`.

    The header is checked before any key is used: `alg` must be ES256 (never `none`, never an HMAC with
    the public key as its secret, RFC 8725 §3.1-3.2) and `typ` must be at+jwt (RFC 9068 §4). Then the
    signature with the key named by `kid`, then iss, aud, exp and iat (with `leeway` seconds of skew).
    """
    header = _header(token)
    if header.get("alg") != ALGORITHM:
        raise InvalidAccessToken(RejectReason.UNSUPPORTED_ALGORITHM)
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in _ACCEPTED_TYPES:
        raise InvalidAccessToken(RejectReason.WRONG_TYPE)
    kid = header.get("kid")
    jwk = keys.get(kid) if isinstance(kid, str) else None
    if jwk is None:
        raise InvalidAccessToken(RejectReason.UNKNOWN_KEY)
    try:
        public = _public_key(tuple(sorted((k, str(v)) for k, v in jwk.items() if k != "d")))
        claims = jwt.decode(token, public, algorithms=[ALGORITHM]).claims
    except BadSignatureError:
        raise InvalidAccessToken(RejectReason.BAD_SIGNATURE) from None
    except (JoseError, ValueError, TypeError):
        raise InvalidAccessToken(RejectReason.MALFORMED) from None
    return _validated(claims, issuer=issuer, audience=audience, now=now, leeway=leeway)


def unverified_kid(token: str) -> str | None:
    """The `kid` of the token's header, unverified: only to pick (or reload) the key that will verify it.
    None when the header cannot be read (`verify_access_token` then refuses the token with its reason)."""
    try:
        kid = _header(token).get("kid")
    except InvalidAccessToken:
        return None
    return kid if isinstance(kid, str) else None


@lru_cache(maxsize=64)
def _public_key(members: tuple[tuple[str, str], ...]) -> ECKey:
    """The imported public key for a JWK's members (cached: importing costs more than verifying)."""
    return ECKey.import_key(dict(members))


def _header(token: str) -> dict[str, Any]:
    if not isinstance(token, str) or token.count(".") != 2:
        raise InvalidAccessToken(RejectReason.MALFORMED)
    try:
        return dict(jws.extract_compact(token.encode("ascii")).headers())
    except (JoseError, ValueError, TypeError, UnicodeError):
        raise InvalidAccessToken(RejectReason.MALFORMED) from None


def _validated(
    claims: Mapping[str, Any], *, issuer: str, audience: str, now: datetime, leeway: int
) -> AccessTokenClaims:
    if any(name not in claims for name in (*_STRING_CLAIMS, *_TIME_CLAIMS, "aud")):
        raise InvalidAccessToken(RejectReason.MISSING_CLAIMS)
    if any(not isinstance(claims[name], str) or not claims[name] for name in _STRING_CLAIMS):
        raise InvalidAccessToken(RejectReason.INVALID_CLAIMS)
    if any(not _is_number(claims[name]) for name in _TIME_CLAIMS):
        raise InvalidAccessToken(RejectReason.INVALID_CLAIMS)
    aud = claims["aud"]
    audiences = (aud,) if isinstance(aud, str) else aud
    if not isinstance(audiences, list | tuple) or not all(isinstance(a, str) for a in audiences):
        raise InvalidAccessToken(RejectReason.INVALID_CLAIMS)
    school = [claims.get(name) for name in _SCHOOL_CLAIMS]
    if school.count(None) == 1:
        raise InvalidAccessToken(RejectReason.MISSING_CLAIMS)
    if school == [None, None]:
        expected_subject = claims["client_id"]  # an app-level token
    elif all(isinstance(value, str) and value for value in school):
        expected_subject = f"school:{claims['school_id']}"
    else:
        raise InvalidAccessToken(RejectReason.INVALID_CLAIMS)
    if claims["sub"] != expected_subject:
        raise InvalidAccessToken(RejectReason.INVALID_CLAIMS)
    if claims["iss"] != issuer:  # RFC 9068 §4 step 3: exact match with the issuer identifier
        raise InvalidAccessToken(RejectReason.WRONG_ISSUER)
    if audience not in audiences:  # §4 step 4
        raise InvalidAccessToken(RejectReason.WRONG_AUDIENCE)
    current = now.timestamp()
    if current >= claims["exp"] + leeway:  # §4 step 7
        raise InvalidAccessToken(RejectReason.EXPIRED)
    if claims["iat"] > current + leeway:
        raise InvalidAccessToken(RejectReason.NOT_YET_VALID)
    nbf = claims.get("nbf")
    if nbf is not None and (not _is_number(nbf) or nbf > current + leeway):
        raise InvalidAccessToken(RejectReason.NOT_YET_VALID)
    return AccessTokenClaims(
        issuer=claims["iss"],
        subject=claims["sub"],
        audience=tuple(audiences),
        client_id=claims["client_id"],
        scopes=tuple(claims["scope"].split()),
        school_id=claims.get("school_id"),
        grant_id=claims.get("grant_id"),
        jti=claims["jti"],
        issued_at=datetime.fromtimestamp(claims["iat"], UTC),
        expires_at=datetime.fromtimestamp(claims["exp"], UTC),
    )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
