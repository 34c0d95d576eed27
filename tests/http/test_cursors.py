"""The one cursor codec (`gateway.http.cursors`): pure, no database, no app."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.http.cursors import MAX_CURSOR_LENGTH, InvalidCursor, open_cursor, seal_cursor

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
SCHOOL = uuid.UUID("6f1d3c1e-8a4b-4c55-9d0e-2b7f3a9c1d42")
OTHER_SCHOOL = uuid.UUID("0b8e2f4a-1c3d-4e5f-8a9b-7c6d5e4f3a2b")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_round_trip_gives_back_the_payload_without_kind_or_binding() -> None:
    payload = {"t": "2026-01-05T08:30:00.123456+00:00", "i": str(uuid.uuid4()), "n": 42, "f": None}
    cursor = seal_cursor(KEY, payload, kind="grants", s=SCHOOL, q="live")
    assert open_cursor(KEY, cursor, kind="grants", s=SCHOOL, q="live") == payload
    assert open_cursor(KEY, cursor, kind="grants", s=str(SCHOOL), q="live") == payload  # a UUID is its text
    assert len(cursor) <= MAX_CURSOR_LENGTH
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def test_a_cursor_in_the_data_apis_first_layout_still_opens() -> None:
    """Changes-feed cursors that apps keep between syncs were sealed before this module: same layout."""
    sealed = {"k": "changes", "s": str(SCHOOL), "g": "g-1", "n": 7, "f": "fp", "d": "digest"}
    body = json.dumps(sealed, separators=(",", ":"), sort_keys=True).encode()
    tag = hmac.new(KEY, b"cursor|" + body, hashlib.sha256).digest()[:16]
    cursor = f"{b64(body)}.{b64(tag)}"
    assert open_cursor(KEY, cursor, kind="changes", s=SCHOOL, g="g-1") == {"n": 7, "f": "fp", "d": "digest"}
    assert seal_cursor(KEY, {"n": 7, "f": "fp", "d": "digest"}, kind="changes", s=SCHOOL, g="g-1") == cursor


def test_a_changed_character_is_refused() -> None:
    cursor = seal_cursor(KEY, {"b": 1234}, kind="access-log", s=SCHOOL, q="all")
    body, tag = cursor.split(".")
    forged_body = b64(json.dumps({"b": 99, "k": "access-log", "q": "all", "s": str(SCHOOL)}).encode())
    for bad in (
        body + "." + tag[::-1],
        body[:-1] + ("A" if body[-1] != "A" else "B") + "." + tag,
        body + "." + tag[:-1] + ("A" if tag[-1] != "A" else "B"),
        forged_body + "." + tag,  # a new position under the old tag
        body + "." + body,
        body,
        cursor + "." + tag,
        "",
    ):
        with pytest.raises(InvalidCursor):
            open_cursor(KEY, bad, kind="access-log", s=SCHOOL, q="all")


@given(st.data())
def test_any_single_byte_change_is_refused(data: st.DataObject) -> None:
    cursor = seal_cursor(KEY, {"g": str(uuid.UUID(int=12345))}, kind="app-schools", a=SCHOOL)
    at = data.draw(st.integers(0, len(cursor) - 1))
    replacement = data.draw(st.characters(codec="ascii").filter(lambda c: c != cursor[at]))
    tampered = cursor[:at] + replacement + cursor[at + 1 :]
    try:
        opened = open_cursor(KEY, tampered, kind="app-schools", a=SCHOOL)
    except InvalidCursor:
        return
    # Base64 leaves a few low bits of the last character of each part unused: such a change still
    # decodes to the same bytes, so it can only ever give back the very same position.
    assert opened == {"g": str(uuid.UUID(int=12345))}


def test_a_cursor_made_for_another_kind_school_query_or_key_is_refused() -> None:
    cursor = seal_cursor(KEY, {"a": "s-100"}, kind="list", r="students", s=SCHOOL, g="g-1", q="")
    assert open_cursor(KEY, cursor, kind="list", r="students", s=SCHOOL, g="g-1", q="") == {"a": "s-100"}
    elsewhere: list[tuple[str, dict[str, str | uuid.UUID]]] = [
        ("changes", {"r": "students", "s": SCHOOL, "g": "g-1", "q": ""}),
        ("list", {"r": "staff", "s": SCHOOL, "g": "g-1", "q": ""}),
        ("list", {"r": "students", "s": OTHER_SCHOOL, "g": "g-1", "q": ""}),
        ("list", {"r": "students", "s": SCHOOL, "g": "g-2", "q": ""}),
        ("list", {"r": "students", "s": SCHOOL, "g": "g-1", "q": "2020-01-01T00:00:00+00:00"}),
        ("list", {"r": "students", "s": SCHOOL, "g": "g-1", "q": "", "a": "app"}),  # one binding more
    ]
    for kind, binding in elsewhere:
        with pytest.raises(InvalidCursor):
            open_cursor(KEY, cursor, kind=kind, **binding)
    with pytest.raises(InvalidCursor):
        open_cursor(OTHER_KEY, cursor, kind="list", r="students", s=SCHOOL, g="g-1", q="")


def test_over_long_input_is_refused_before_any_work() -> None:
    cursor = seal_cursor(KEY, {"b": 1}, kind="access-log", s=SCHOOL, q="all")
    padded = cursor + "A" * (MAX_CURSOR_LENGTH + 1 - len(cursor))
    for bad in (padded, "A" * 10_000 + "." + "A" * 22):
        with pytest.raises(InvalidCursor):
            open_cursor(KEY, bad, kind="access-log", s=SCHOOL, q="all")


def test_not_base64url_is_refused() -> None:
    cursor = seal_cursor(KEY, {"b": 1}, kind="access-log", s=SCHOOL, q="all")
    body, tag = cursor.split(".")
    old_grants_cursor = b64(f"2026-01-01T00:00:00+00:00|{uuid.uuid4()}".encode())  # the forgeable kind
    for bad in (
        "!" * 22,
        "not a cursor",
        body + "=." + tag,  # padding is never part of a cursor
        body.replace(body[0], "+", 1) + "." + tag,
        body + ".é" + tag,
        body + "\x00." + tag,
        "A.AAAA",  # one character cannot be base64 of anything
        old_grants_cursor,
        b64(uuid.uuid4().bytes),  # the app API's old cursor
    ):
        with pytest.raises(InvalidCursor):
            open_cursor(KEY, bad, kind="access-log", s=SCHOOL, q="all")


def test_a_sealed_body_that_is_not_an_object_is_refused() -> None:
    """Only reachable with the key; still one `InvalidCursor`, never a crash."""
    for body in (b"[1,2]", b"not json", b"\xff\xfe"):
        tag = hmac.new(KEY, b"cursor|" + body, hashlib.sha256).digest()[:16]
        with pytest.raises(InvalidCursor):
            open_cursor(KEY, f"{b64(body)}.{b64(tag)}", kind="list")


def test_sealing_refuses_a_callers_mistakes() -> None:
    with pytest.raises(ValueError, match="taken"):
        seal_cursor(KEY, {"s": "position"}, kind="access-log", s=SCHOOL)
    with pytest.raises(ValueError, match="taken"):
        seal_cursor(KEY, {"k": "position"}, kind="access-log")
    with pytest.raises(ValueError, match="over"):
        seal_cursor(KEY, {"b": 1}, kind="access-log", q="x" * MAX_CURSOR_LENGTH)


def test_a_cursor_has_one_spelling() -> None:
    """The last base64 character also holds unused bits: a cursor spelled with them set is refused, so the
    same position cannot be handed back in several forms."""
    key = b"k" * 32
    cursor = seal_cursor(key, {"a": 1}, kind="list")
    body, tag = cursor.split(".")
    for spelling in ("A", "B", "C", "D", "E", "Q", "g", "w"):
        changed = f"{body}.{tag[:-1]}{spelling}"
        if changed != cursor:
            with pytest.raises(InvalidCursor):
                open_cursor(key, changed, kind="list")
    assert open_cursor(key, cursor, kind="list") == {"a": 1}
