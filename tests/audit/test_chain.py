"""The hash chain (SPEC §4), pure: canonical encoding, event hashes, and that verification finds any
single change, deletion, reordering or insertion at the event where it happened (or the one after)."""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import IntEnum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.audit.chain import (
    GENESIS_HASH,
    BreakReason,
    BrokenLink,
    ChainLink,
    ChainVerifier,
    canonical_encoding,
    event_hash,
    verify_chain,
)
from gateway.audit.events import EventType

SCHOOL = uuid.UUID("5c4b1a2e-0000-4000-8000-000000000001")


# --- canonical encoding ---------------------------------------------------------------------------


class Level(IntEnum):
    HIGH = 3


def test_sorted_keys_no_whitespace_and_utf8() -> None:
    encoded = canonical_encoding({"b": [1, True, None], "a": "Zoë", "c": {"y": False, "x": ()}})
    assert encoded == '{"a":"Zoë","b":[1,true,null],"c":{"x":[],"y":false}}'.encode()


def test_the_same_values_encode_the_same_whatever_the_insertion_order() -> None:
    assert canonical_encoding({"x": 1, "y": 2}) == canonical_encoding({"y": 2, "x": 1})


def test_datetimes_are_utc_with_microseconds() -> None:
    paris = timezone(timedelta(hours=1))
    assert canonical_encoding({"t": datetime(2026, 11, 26, 10, 30, tzinfo=paris)}) == (
        b'{"t":"2026-11-26T09:30:00.000000Z"}'
    )
    assert canonical_encoding({"t": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)}) == (
        b'{"t":"2026-01-02T03:04:05.000006Z"}'
    )


def test_dates_uuids_and_enums() -> None:
    identifier = uuid.UUID("12345678-1234-5678-1234-567812345678")
    encoded = canonical_encoding(
        {"d": date(2026, 9, 1), "id": identifier, "type": EventType.GRANT_APPROVED, "level": Level.HIGH}
    )
    assert encoded == (
        b'{"d":"2026-09-01","id":"12345678-1234-5678-1234-567812345678","level":3,"type":"grant.approved"}'
    )


def test_bools_stay_bools() -> None:
    assert canonical_encoding({"a": True}) != canonical_encoding({"a": 1})


@pytest.mark.parametrize(
    "value",
    [1.5, float("nan"), float("inf"), Decimal("1.5"), b"bytes", {1, 2}, object()],
    ids=["float", "nan", "inf", "decimal", "bytes", "set", "object"],
)
def test_values_without_one_encoding_are_refused(value: object) -> None:
    with pytest.raises(TypeError):
        canonical_encoding({"value": value})
    with pytest.raises(TypeError):
        canonical_encoding({"nested": [{"value": value}]})


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(TypeError, match="naive"):
        canonical_encoding({"t": datetime(2026, 11, 26, 9, 30)})


def test_keys_must_be_strings() -> None:
    with pytest.raises(TypeError, match="keys must be strings"):
        canonical_encoding({"outer": {1: "one"}})


def test_fields_must_be_a_mapping() -> None:
    with pytest.raises(TypeError, match="mapping"):
        canonical_encoding([("a", 1)])  # type: ignore[arg-type]


# --- event hashes ---------------------------------------------------------------------------------


def test_event_hash_is_sha256_of_previous_hash_then_canonical_fields() -> None:
    fields = {"seq": 1, "actor": "operator"}
    expected = hashlib.sha256(GENESIS_HASH.encode() + b'{"actor":"operator","seq":1}').hexdigest()
    assert event_hash(GENESIS_HASH, fields) == expected
    assert GENESIS_HASH == "0" * 64


def test_event_hash_depends_on_the_previous_hash() -> None:
    assert event_hash(GENESIS_HASH, {"seq": 1}) != event_hash("f" * 64, {"seq": 1})


@pytest.mark.parametrize("previous", ["", "0" * 63, "F" * 64, "g" * 64, "0" * 65])
def test_previous_hash_must_be_64_lowercase_hex(previous: str) -> None:
    with pytest.raises(ValueError, match="64 lowercase hex"):
        event_hash(previous, {})


# --- verification ---------------------------------------------------------------------------------


def chain(records: Sequence[Mapping[str, Any]]) -> list[ChainLink]:
    """A well-formed chain whose events carry `records` as fields (plus their seq)."""
    links: list[ChainLink] = []
    previous = GENESIS_HASH
    for seq, record in enumerate(records, start=1):
        links.append(forge(seq, previous, record))
        previous = links[-1].hash
    return links


def forge(seq: int, previous: str, record: Mapping[str, Any]) -> ChainLink:
    """A link computed exactly as the gateway would: what an attacker without the history can do."""
    fields = {**record, "seq": seq}
    identifier = record.get("id", uuid.uuid4())
    return ChainLink(
        id=identifier, seq=seq, prev_hash=previous, hash=event_hash(previous, fields), fields=fields
    )


def simple(count: int) -> list[ChainLink]:
    return chain([{"id": uuid.uuid4(), "actor": "operator", "n": n} for n in range(count)])


def test_an_empty_chain_holds() -> None:
    assert verify_chain([]) is None


def test_a_well_formed_chain_holds() -> None:
    assert verify_chain(simple(5)) is None
    assert verify_chain(iter(simple(3))) is None  # any iterable, read once


def test_a_changed_field_is_a_hash_mismatch_at_that_event() -> None:
    links = simple(4)
    links[2] = dataclasses.replace(links[2], fields={**links[2].fields, "actor": "admin:someone-else"})
    assert verify_chain(links) == BrokenLink(seq=3, id=links[2].id, reason=BreakReason.HASH_MISMATCH)


def test_a_replaced_previous_hash_is_named() -> None:
    links = simple(3)
    links[1] = dataclasses.replace(links[1], prev_hash="a" * 64)
    assert verify_chain(links) == BrokenLink(2, links[1].id, BreakReason.PREVIOUS_HASH_MISMATCH)


def test_a_first_event_must_follow_the_genesis_hash() -> None:
    forged = forge(1, "1" * 64, {"id": uuid.uuid4()})
    assert verify_chain([forged]) == BrokenLink(1, forged.id, BreakReason.PREVIOUS_HASH_MISMATCH)


def test_a_chain_must_start_at_seq_1() -> None:
    links = simple(3)
    assert verify_chain(links[1:]) == BrokenLink(2, links[1].id, BreakReason.SEQUENCE_GAP)


def test_a_deleted_middle_event_is_a_sequence_gap_at_the_next() -> None:
    links = simple(5)
    del links[2]
    broken = verify_chain(links)
    assert broken == BrokenLink(4, links[2].id, BreakReason.SEQUENCE_GAP)
    assert broken.reason == "sequence gap"


def test_cutting_off_the_end_needs_an_anchor_kept_elsewhere() -> None:
    # Documented limit (chain.py): the last events can be removed without a trace in the chain itself.
    assert verify_chain(simple(5)[:-2]) is None


def test_the_verifier_stops_at_the_first_break() -> None:
    links = simple(4)
    links[1] = dataclasses.replace(links[1], hash="b" * 64)
    verifier = ChainVerifier()
    results = [verifier.check(link) for link in links]
    expected = BrokenLink(2, links[1].id, BreakReason.HASH_MISMATCH)
    assert results == [None, expected, expected, expected]
    assert verifier.checked == 2
    assert verifier.broken == expected


def test_the_verifier_counts_what_it_checked() -> None:
    verifier = ChainVerifier()
    for link in simple(3):
        assert verifier.check(link) is None
    assert (verifier.checked, verifier.broken) == (3, None)


# --- any single change is found (Hypothesis) ----------------------------------------------------

moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


@st.composite
def chains(draw: st.DrawFn, min_size: int = 1) -> list[ChainLink]:
    ids = draw(st.lists(st.uuids(), min_size=min_size, max_size=8, unique=True))
    records = [
        {
            "id": identifier,
            "school_id": SCHOOL,
            "event_type": draw(st.sampled_from(EventType)),
            "actor": draw(st.text(max_size=20)),
            "occurred_at": draw(moments),
            "details": draw(st.text(max_size=40)),
        }
        for identifier in ids
    ]
    return chain(records)


def different(draw: Callable[[st.SearchStrategy[Any]], Any], value: Any) -> Any:
    """Another value of the same kind."""
    if isinstance(value, EventType):
        return draw(st.sampled_from([kind for kind in EventType if kind != value]))
    if isinstance(value, uuid.UUID):
        return draw(st.uuids().filter(lambda other: other != value))
    if isinstance(value, datetime):
        return value + timedelta(microseconds=draw(st.integers(1, 10**12)) * draw(st.sampled_from([1, -1])))
    if isinstance(value, int):
        return value + draw(st.integers(-3, 3).filter(bool))
    return draw(st.text(max_size=40).filter(lambda other: other != value))


@given(st.data())
def test_any_single_field_tamper_is_found_at_that_event(data: st.DataObject) -> None:
    links = data.draw(chains())
    index = data.draw(st.integers(0, len(links) - 1))
    target = links[index]
    what = data.draw(
        st.sampled_from(["link seq", "prev_hash", "hash", "add field", "drop field", *target.fields])
    )
    if what == "link seq":  # the stored column, not the hashed field of the same name
        tampered = dataclasses.replace(target, seq=different(data.draw, target.seq))
        reason = BreakReason.SEQUENCE_GAP
    elif what in {"prev_hash", "hash"}:
        new_hash = data.draw(st.text("0123456789abcdef", min_size=64, max_size=64))
        if new_hash == getattr(target, what):
            return
        tampered = (
            dataclasses.replace(target, prev_hash=new_hash)
            if what == "prev_hash"
            else dataclasses.replace(target, hash=new_hash)
        )
        reason = BreakReason.PREVIOUS_HASH_MISMATCH if what == "prev_hash" else BreakReason.HASH_MISMATCH
    else:
        fields = dict(target.fields)
        if what == "add field":
            fields["extra"] = data.draw(st.text(max_size=10))
        elif what == "drop field":
            del fields[data.draw(st.sampled_from(sorted(fields)))]
        else:
            fields[what] = different(data.draw, fields[what])
        tampered = dataclasses.replace(target, fields=fields)
        reason = BreakReason.HASH_MISMATCH
    links[index] = tampered
    assert verify_chain(links) == BrokenLink(tampered.seq, target.id, reason)


@given(st.data())
def test_any_deletion_but_of_the_last_event_is_found_at_the_next(data: st.DataObject) -> None:
    links = data.draw(chains(min_size=2))
    index = data.draw(st.integers(0, len(links) - 2))
    after = links[index + 1]
    del links[index]
    assert verify_chain(links) == BrokenLink(after.seq, after.id, BreakReason.SEQUENCE_GAP)


@given(st.data())
def test_any_reordering_is_found_where_the_order_first_differs(data: st.DataObject) -> None:
    links = data.draw(chains(min_size=2))
    shuffled = data.draw(st.permutations(links).filter(lambda order: order != links))
    first = next(i for i, (a, b) in enumerate(zip(links, shuffled, strict=True)) if a != b)
    moved = shuffled[first]
    assert verify_chain(shuffled) == BrokenLink(moved.seq, moved.id, BreakReason.SEQUENCE_GAP)


@given(st.data())
def test_any_insertion_before_the_end_is_found(data: st.DataObject) -> None:
    links = data.draw(chains())
    index = data.draw(st.integers(0, len(links) - 1))
    previous = links[index - 1].hash if index else GENESIS_HASH
    # The best an attacker can do without rewriting the rest: the right seq, the right previous hash.
    forged = forge(index + 1, previous, {"id": uuid.uuid4(), "details": data.draw(st.text(max_size=20))})
    displaced = links[index]
    links.insert(index, forged)
    assert verify_chain(links) == BrokenLink(displaced.seq, displaced.id, BreakReason.SEQUENCE_GAP)
