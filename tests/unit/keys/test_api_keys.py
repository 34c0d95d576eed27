"""The one check every key kind shares: live, matching, constant work; last use written at most per minute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.keys import api_keys

KEY = b"k" * 32
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_only_a_live_matching_key_passes() -> None:
    issued = api_keys.issue("ck")
    stored = api_keys.keyed_hash(KEY, issued.secret)
    assert api_keys.live_key_matches(KEY, issued.secret, stored, None)
    assert not api_keys.live_key_matches(KEY, issued.secret, stored, NOW)  # revoked
    assert not api_keys.live_key_matches(KEY, issued.secret + "x", stored, None)
    assert not api_keys.live_key_matches(b"o" * 32, issued.secret, stored, None)
    assert not api_keys.live_key_matches(KEY, issued.secret, None, None)  # no such key


def test_last_use_is_written_at_most_once_a_minute() -> None:
    assert api_keys.last_used_update(None, NOW) == NOW
    assert api_keys.last_used_update(NOW - timedelta(seconds=30), NOW) is None
    assert api_keys.last_used_update(NOW - timedelta(minutes=2), NOW) == NOW
