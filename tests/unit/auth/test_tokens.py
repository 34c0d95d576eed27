"""Opaque tokens: shape, randomness, digest, constant-time comparison."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from gateway.auth.tokens import digests_match, new_token, token_digest


def test_token_is_prefix_and_256_random_bits() -> None:
    token = new_token("gw_rs_")
    assert token.startswith("gw_rs_")
    body = token.removeprefix("gw_rs_")
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", body)
    assert len(base64.urlsafe_b64decode(body + "=")) == 32


def test_tokens_are_unique() -> None:
    assert len({new_token("gw_ss_") for _ in range(1000)}) == 1000


@pytest.mark.parametrize("prefix", ["gw_", "gw_rs_", "gw_session_", "a1_"])
def test_good_prefixes(prefix: str) -> None:
    assert new_token(prefix).startswith(prefix)


@pytest.mark.parametrize("prefix", ["", "gw", "GW_", "gw__", "_gw_", "gw rs_", "gw-rs_", "1gw_", "gw_rs_\n"])
def test_bad_prefixes(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        new_token(prefix)


def test_digest_is_sha256_of_the_whole_token() -> None:
    token = new_token("gw_rs_")
    digest = token_digest(token)
    assert digest == hashlib.sha256(token.encode()).digest()
    assert len(digest) == 32
    assert token_digest(token) == digest
    assert token_digest(new_token("gw_rs_")) != digest


def test_digest_accepts_anything_a_client_sends() -> None:
    for junk in ["", "\u00e9", "\ud800", "\x00" * 5, "x" * 100_000]:
        assert len(token_digest(junk)) == 32


def test_digests_match() -> None:
    digest = token_digest("gw_rs_abc")
    assert digests_match(digest, token_digest("gw_rs_abc"))
    assert not digests_match(digest, token_digest("gw_rs_abd"))
    assert not digests_match(digest, digest[:-1])
    assert not digests_match(digest, b"")
