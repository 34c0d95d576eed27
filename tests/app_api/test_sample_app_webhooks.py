"""The sample app's webhook receiver (examples/sample_app/webhooks.py) and record store (records.py),
without HTTP: what each delivery does to the token and records the app holds. The route itself, with
deliveries the gateway's way, is in test_sample_app.py."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from examples.sample_app.gateway import Session
from examples.sample_app.records import RecordStore
from examples.sample_app.webhooks import WebhookReceiver
from standardwebhooks import Webhook

OLD_SECRET, NEW_SECRET = bytes(32), bytes(range(1, 33))
SCHOOL, OTHER = "6f1c1d8e-2f52-4c1b-9a55-0d9d1e6c1a01", "9d0f3c2a-1b4e-4f6a-8c7d-2e5f6a7b8c9d"


def whsec(raw: bytes) -> str:
    return "whsec_" + base64.b64encode(raw).decode()


def delivery(
    body: bytes | dict[str, Any], message_id: str = "msg_1", secrets: tuple[bytes, ...] = (OLD_SECRET,)
) -> tuple[bytes, dict[str, str]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    now = datetime.now(UTC)
    return raw, {
        "Webhook-Id": message_id,  # any case: headers are matched without it
        "Webhook-Timestamp": str(int(now.timestamp())),
        "Webhook-Signature": " ".join(Webhook(secret).sign(message_id, now, raw) for secret in secrets),
    }


def event(kind: str, **data: Any) -> dict[str, Any]:
    return {"type": kind, "timestamp": "2025-01-06T09:00:00Z", "data": data}


def held() -> tuple[WebhookReceiver, Session, RecordStore]:
    session = Session(token={"access_token": "at", "scope": "students.basic"}, school_id=SCHOOL)
    records = RecordStore()
    for school in (SCHOOL, OTHER):
        records.keep(
            school, "students", [{"id": "s1", "first_name": "Ada"}, {"id": "s2", "first_name": "Ben"}]
        )
        records.keep(school, "attendance_summaries", [{"id": "a1", "student_id": "s2", "late_sessions": 3}])
    return WebhookReceiver(whsec(OLD_SECRET), session, records), session, records


def test_record_store() -> None:
    records = RecordStore()
    assert records.keep(SCHOOL, "students", [{"id": "s1", "dob": "2013-04-01"}, {"first_name": "no id"}]) == 1
    assert records.keep(SCHOOL, "groups", []) == 0
    assert records.count(SCHOOL) == 1
    assert records.forget_fields(SCHOOL, {"students": ["dob"], "groups": ["student_ids"]}) == 1
    assert records.records(SCHOOL, "students") == [{"id": "s1"}]
    assert records.forget_fields(SCHOOL, {"students": ["id", "first_name"]}) == 1  # `id` goes: all goes
    assert records.count(SCHOOL) == 0
    assert records.forget_school(SCHOOL) == 0


def test_data_purged_of_former_pupils_deletes_their_records_only() -> None:
    receiver, session, records = held()
    purged = event(
        "school.data_purged",
        school={"id": SCHOOL, "urn": "1"},
        rule="former_pupil",
        purged_at="2025-01-06T09:00:00Z",
        student_ids=["s2"],
    )

    outcome = receiver.receive(*delivery(purged))

    assert outcome.status == 200
    assert records.records(SCHOOL, "students") == [{"id": "s1", "first_name": "Ada"}]
    assert records.records(SCHOOL, "attendance_summaries") == []
    assert records.count(OTHER) == 3
    assert session.token is not None
    assert "deleted 2 record(s) of 1 former pupil(s)" in outcome.message


def test_whole_school_purge_and_disconnection_delete_everything_of_that_school() -> None:
    receiver, session, records = held()
    purged = event(
        "school.data_purged",
        school={"id": OTHER, "urn": "2"},
        rule="connector_deleted",
        purged_at="2025-01-06T09:00:00Z",
        student_ids=[],
    )
    assert receiver.receive(*delivery(purged, "msg_1")).status == 200
    assert records.count(OTHER) == 0
    assert session.token is not None  # connected to the other school

    disconnected = event("app.disconnected", grant_id="g", school={"id": SCHOOL, "urn": "1"})
    outcome = receiver.receive(*delivery(disconnected, "msg_2"))
    assert outcome.status == 200
    assert (session.token, session.school_id, records.count(SCHOOL)) == (None, None, 0)
    assert "deleted the token and 3 record(s)" in outcome.message


def test_either_secret_verifies_during_a_rotation() -> None:
    receiver, _session, records = held()
    ping = event("ping", client_id="demo-client", message="hello")
    assert receiver.receive(*delivery(ping, "msg_1", secrets=(NEW_SECRET, OLD_SECRET))).status == 200
    assert receiver.receive(*delivery(ping, "msg_2", secrets=(NEW_SECRET,))).status == 400
    assert [hook.webhook_id for hook in receiver.received] == ["msg_1"]
    assert records.count(SCHOOL) == 3


def test_signed_but_not_a_webhook() -> None:
    receiver, session, records = held()
    for body in [
        b"not json",
        b"\xff\xfe",
        {"type": "grant.revoked"},
        {"data": {}},
        event("grant.revoked", school="not an object"),
        event("grant.narrowed", school={"id": SCHOOL}, removed={"fields": {"students": "dob"}}),
    ]:
        assert receiver.receive(*delivery(body, "msg_1")).status == 400, body
    assert records.count(SCHOOL) == 3
    assert session.token is not None
    # None of those was remembered: a correct delivery with the same id still acts.
    revoked = event("grant.revoked", school={"id": SCHOOL, "urn": "1"})
    assert receiver.receive(*delivery(revoked, "msg_1")).status == 200
    assert records.count(SCHOOL) == 0


def test_unknown_events_are_recorded() -> None:
    receiver, session, records = held()
    outcome = receiver.receive(*delivery(event("grant.frobnicated", school={"id": SCHOOL})))
    assert (outcome.status, outcome.message) == (200, "webhook grant.frobnicated (msg_1): recorded")
    assert records.count(SCHOOL) == 3
    assert session.token is not None
