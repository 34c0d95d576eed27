"""RFC 9068 access tokens: pure mint and verify, and every reason to refuse (no database)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from joserfc import jws, jwt
from joserfc.jwk import ECKey, OctKey

from gateway.tokens.access_tokens import (
    AccessTokenClaims,
    InvalidAccessToken,
    RejectReason,
    mint_access_token,
    unverified_kid,
    verify_access_token,
)

ISSUER = "https://gateway.example"
AUDIENCE = "https://gateway.example/api/v1"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
KID = "key-1"


def signing_key(kid: str = KID) -> ECKey:
    return ECKey.generate_key("P-256", private=True, parameters={"kid": kid})


def public(key: ECKey) -> dict[str, Any]:
    return {**key.as_dict(private=False), "kid": key.kid, "use": "sig", "alg": "ES256"}


KEY = signing_key()
KEYS = {KID: public(KEY)}


def mint(key: ECKey = KEY, **overrides: Any) -> str:
    arguments: dict[str, Any] = {
        "issuer": ISSUER,
        "client_id": "app-1",
        "school_id": "school-1",
        "grant_id": "grant-1",
        "scopes": ["students.basic", "attendance"],
        "audience": AUDIENCE,
        "now": NOW,
    } | overrides
    token, _ = mint_access_token(key, **arguments)
    return token


def verify(token: str, keys: dict[str, dict[str, Any]] = KEYS, **overrides: Any) -> AccessTokenClaims:
    arguments: dict[str, Any] = {"issuer": ISSUER, "audience": AUDIENCE, "now": NOW} | overrides
    return verify_access_token(token, keys, **arguments)


def refused(token: str, reason: RejectReason, **overrides: Any) -> None:
    with pytest.raises(InvalidAccessToken) as caught:
        verify(token, **overrides)
    assert caught.value.reason is reason


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segments(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
        signature,
    )


def claims(**changes: Any) -> dict[str, Any]:
    _, payload, _ = segments(mint())
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not None}


def test_round_trip() -> None:
    token, jti = mint_access_token(
        KEY,
        issuer=ISSUER,
        client_id="app-1",
        school_id="school-1",
        grant_id="grant-1",
        scopes=["students.basic", "attendance"],
        audience=AUDIENCE,
        now=NOW,
    )
    verified = verify(token)
    assert verified == AccessTokenClaims(
        issuer=ISSUER,
        subject="school:school-1",
        audience=(AUDIENCE,),
        client_id="app-1",
        scopes=("students.basic", "attendance"),
        school_id="school-1",
        grant_id="grant-1",
        jti=jti,
        issued_at=NOW,
        expires_at=NOW + timedelta(minutes=15),
    )


def test_header_and_claims_follow_rfc_9068() -> None:
    header, payload, _ = segments(mint())
    assert header == {"typ": "at+jwt", "alg": "ES256", "kid": KID}
    assert set(payload) == {
        "iss", "sub", "aud", "client_id", "scope", "school_id", "grant_id", "jti", "iat", "exp",
    }  # fmt: skip
    assert payload["scope"] == "students.basic attendance"
    assert payload["exp"] - payload["iat"] == 900


def test_each_token_has_its_own_jti() -> None:
    assert segments(mint())[1]["jti"] != segments(mint())[1]["jti"]


def test_application_media_type_is_accepted() -> None:
    token = jwt.encode({"typ": "application/at+jwt", "alg": "ES256", "kid": KID}, claims(), KEY)
    assert verify(token).client_id == "app-1"


def test_mint_needs_a_private_key_with_a_kid() -> None:
    with pytest.raises(ValueError, match="private"):
        mint(ECKey.import_key(KEY.as_dict(private=False)))
    with pytest.raises(ValueError, match="private"):
        mint(ECKey.generate_key("P-256", private=True))
    with pytest.raises(ValueError, match="scopes"):
        mint(scopes=[])


def test_signed_by_another_key_with_the_same_kid() -> None:
    refused(mint(signing_key(KID)), RejectReason.BAD_SIGNATURE)


def test_tampered_payload() -> None:
    header, _, signature = mint().split(".")
    forged = b64(json.dumps(claims(scope="students.basic students.sensitive")).encode())
    refused(f"{header}.{forged}.{signature}", RejectReason.BAD_SIGNATURE)


def test_unknown_kid() -> None:
    refused(mint(signing_key("other")), RejectReason.UNKNOWN_KEY)
    token = jwt.encode({"typ": "at+jwt", "alg": "ES256"}, claims(), KEY)  # no kid at all
    refused(token, RejectReason.UNKNOWN_KEY)


@pytest.mark.parametrize("typ", ["JWT", "jwt", None, "at+jwt+x"])
def test_wrong_typ(typ: str | None) -> None:
    header = {"alg": "ES256", "kid": KID} | ({"typ": typ} if typ else {})
    refused(jwt.encode(header, claims(), KEY), RejectReason.WRONG_TYPE)


def test_alg_none() -> None:
    _, payload, _ = mint().split(".")
    header = b64(json.dumps({"typ": "at+jwt", "alg": "none", "kid": KID}).encode())
    refused(f"{header}.{payload}.", RejectReason.UNSUPPORTED_ALGORITHM)


def test_hs256_with_the_public_key_as_secret() -> None:
    secret = OctKey.import_key(json.dumps(KEYS[KID], sort_keys=True).encode())
    token = jwt.encode({"typ": "at+jwt", "alg": "HS256", "kid": KID}, claims(), secret, algorithms=["HS256"])
    refused(token, RejectReason.UNSUPPORTED_ALGORITHM)


def test_another_ec_algorithm() -> None:
    key = ECKey.generate_key("P-384", private=True, parameters={"kid": KID})
    token = jwt.encode({"typ": "at+jwt", "alg": "ES384", "kid": KID}, claims(), key, algorithms=["ES384"])
    refused(token, RejectReason.UNSUPPORTED_ALGORITHM)


def test_wrong_issuer() -> None:
    refused(mint(issuer="https://evil.example"), RejectReason.WRONG_ISSUER)


def test_wrong_audience() -> None:
    refused(mint(audience="https://other.example"), RejectReason.WRONG_AUDIENCE)


def test_audience_list_containing_ours() -> None:
    token = jwt.encode({"typ": "at+jwt", "alg": "ES256", "kid": KID}, claims(aud=["x", AUDIENCE]), KEY)
    assert verify(token).audience == ("x", AUDIENCE)


def test_expired_after_leeway_only() -> None:
    token = mint()
    assert verify(token, now=NOW + timedelta(seconds=900 + 29))
    refused(token, RejectReason.EXPIRED, now=NOW + timedelta(seconds=900 + 30))


def test_issued_in_the_future() -> None:
    assert verify(mint(now=NOW + timedelta(seconds=30)))
    refused(mint(now=NOW + timedelta(seconds=31)), RejectReason.NOT_YET_VALID)
    token = jwt.encode({"typ": "at+jwt", "alg": "ES256", "kid": KID}, claims(nbf=NOW.timestamp() + 60), KEY)
    refused(token, RejectReason.NOT_YET_VALID)


@pytest.mark.parametrize(
    "claim", ["iss", "sub", "aud", "client_id", "scope", "school_id", "grant_id", "jti", "iat", "exp"]
)
def test_missing_claims(claim: str) -> None:
    payload = claims()
    del payload[claim]
    token = jwt.encode({"typ": "at+jwt", "alg": "ES256", "kid": KID}, payload, KEY)
    refused(token, RejectReason.MISSING_CLAIMS)


@pytest.mark.parametrize(
    "changes",
    [{"exp": "soon"}, {"iat": True}, {"scope": 7}, {"aud": [1]}, {"sub": "school:another"}, {"jti": ""}],
)
def test_invalid_claims(changes: dict[str, Any]) -> None:
    token = jwt.encode({"typ": "at+jwt", "alg": "ES256", "kid": KID}, claims(**changes), KEY)
    refused(token, RejectReason.INVALID_CLAIMS)


@pytest.mark.parametrize(
    "token",
    ["", "abc", "a.b.c", "a.b", "...", f"{b64(b'[1]')}.{b64(b'{}')}.x", "é.é.é"],
)
def test_malformed(token: str) -> None:
    with pytest.raises(InvalidAccessToken) as caught:
        verify(token)
    assert caught.value.reason in {RejectReason.MALFORMED, RejectReason.UNSUPPORTED_ALGORITHM}


def test_signed_payload_that_is_not_json() -> None:
    token = jws.serialize_compact({"typ": "at+jwt", "alg": "ES256", "kid": KID}, b"not json", KEY)
    refused(token, RejectReason.MALFORMED)


def test_signature_that_is_not_base64url() -> None:
    header, payload, _ = mint().split(".")
    with pytest.raises(InvalidAccessToken) as caught:
        verify(f"{header}.{payload}.!!")
    assert caught.value.reason in {RejectReason.MALFORMED, RejectReason.BAD_SIGNATURE}


def test_an_app_level_token_has_no_school_and_the_client_as_subject() -> None:
    token, _ = mint_access_token(
        KEY, issuer=ISSUER, client_id="app-1", school_id=None, grant_id=None, scopes=["school"],
        audience=AUDIENCE, now=NOW,
    )  # fmt: skip
    _, payload, _ = segments(token)
    assert payload["sub"] == "app-1"
    assert "school_id" not in payload
    assert "grant_id" not in payload
    verified = verify(token)
    assert (verified.school_id, verified.grant_id, verified.subject) == (None, None, "app-1")


def test_an_app_level_token_must_name_its_client_as_subject() -> None:
    payload = claims(sub="school:school-1")
    del payload["school_id"], payload["grant_id"]
    refused(
        jwt.encode({"typ": "at+jwt", "alg": "ES256", "kid": KID}, payload, KEY), RejectReason.INVALID_CLAIMS
    )


def test_school_and_grant_come_together() -> None:
    with pytest.raises(ValueError, match="both"):
        mint_access_token(
            KEY, issuer=ISSUER, client_id="app-1", school_id="s", grant_id=None, scopes=["school"],
            audience=AUDIENCE, now=NOW,
        )  # fmt: skip


def test_unverified_kid_reads_the_header_only() -> None:
    assert unverified_kid(mint()) == KID
    assert unverified_kid("not-a-token") is None
    assert unverified_kid(f"{b64(b'[1]')}.{b64(b'{}')}.x") is None
    no_kid = jwt.encode({"typ": "at+jwt", "alg": "ES256"}, claims(), KEY)
    assert unverified_kid(no_kid) is None
