"""Receiving the gateway's webhooks (Standard Webhooks): verify, drop repeats, act. No HTTP here: web.py
hands over the body and headers of `POST /webhooks` and answers with the status `receive` returns.

- Every delivery is verified with `standardwebhooks.Webhook(secret).verify`: the signature over
  `webhook-id.webhook-timestamp.body` with the app's `whsec_…` secret, and a timestamp within 5 minutes.
  A delivery that fails is answered 400 and nothing else happens.
- The gateway delivers at least once: a `webhook-id` already acted on is answered 200 and ignored.
- `grant.revoked`, `app.disconnected` and a whole-school `school.data_purged`: delete the school's token
  and every record held of it. `school.data_purged` of former pupils (`student_ids`): delete their records.
- `grant.narrowed`: delete `removed.fields` from every record held of the school, and every record of
  the pupils in `removed.excluded_student_ids`.
- `grant.created`, `grant.updated`, `ping` (and a type this app does not know): recorded, nothing more.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from examples.sample_app.gateway import Session
from examples.sample_app.records import RecordStore

REMEMBERED_IDS = 10_000  # webhook-ids kept for spotting repeats (the gateway retries for 3 days)
SHOWN = 20  # received webhooks kept for the page


class Malformed(Exception):
    """A correctly signed body that is not a webhook this app understands; the message says what."""


@dataclass(frozen=True)
class Outcome:
    """What to answer the gateway, and a line saying what happened (never the body)."""

    status: int
    message: str


@dataclass(frozen=True)
class Received:
    webhook_id: str
    type: str
    summary: str


class WebhookReceiver:
    def __init__(self, secret: str, session: Session, records: RecordStore) -> None:
        self._webhook = Webhook(secret)
        self.session = session
        self.records = records
        self._seen: OrderedDict[str, None] = OrderedDict()
        self.received: deque[Received] = deque(maxlen=SHOWN)

    def receive(self, body: bytes, headers: Mapping[str, str]) -> Outcome:
        lowered = {name.lower(): value for name, value in headers.items()}
        try:
            payload = self._webhook.verify(body, lowered)
        except WebhookVerificationError as exc:
            return Outcome(400, f"refused a webhook: {exc}")
        except ValueError:  # signed, but not JSON (or not UTF-8)
            return Outcome(400, "refused a webhook: its body is not JSON")
        webhook_id = lowered["webhook-id"]
        if webhook_id in self._seen:
            return Outcome(200, f"webhook {webhook_id} again: already acted on, ignored")
        try:
            event, data = envelope(payload)
            summary = act(event, data, self.session, self.records)
        except Malformed as exc:
            return Outcome(400, f"refused webhook {webhook_id}: {exc}")
        self._seen[webhook_id] = None
        while len(self._seen) > REMEMBERED_IDS:
            self._seen.popitem(last=False)
        self.received.append(Received(webhook_id, event, summary))
        return Outcome(200, f"webhook {event} ({webhook_id}): {summary}")


def envelope(payload: Any) -> tuple[str, Mapping[str, Any]]:
    """The event type and `data` of a Standard Webhooks body `{"type", "timestamp", "data"}`."""
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        raise Malformed("no event type")
    data = payload.get("data")
    if not isinstance(data, dict):
        raise Malformed("no data")
    return payload["type"], data


def act(event: str, data: Mapping[str, Any], session: Session, records: RecordStore) -> str:
    """Do what the event asks of the app; returns what was done, in words."""
    if event in ("grant.revoked", "app.disconnected"):
        return forget_school(_school_id(data), session, records)
    if event == "school.data_purged":
        school_id = _school_id(data)
        former = _strings(data.get("student_ids", []), "student_ids")
        if not former:
            return forget_school(school_id, session, records)
        gone = records.forget_students(school_id, former)
        return f"deleted {gone} record(s) of {len(former)} former pupil(s) of school {school_id}"
    if event == "grant.narrowed":
        return narrow(_school_id(data), data.get("removed"), records)
    return "recorded"


def forget_school(school_id: str, session: Session, records: RecordStore) -> str:
    """Delete the school's token (if it is the school connected) and every record held of it."""
    token = ""
    if session.school_id == school_id:
        token = "the token and " if session.token else ""
        session.token, session.school_id = None, None
    return f"deleted {token}{records.forget_school(school_id)} record(s) of school {school_id}"


def narrow(school_id: str, removed: Any, records: RecordStore) -> str:
    """Delete the fields the school no longer grants, and the pupils it now hides."""
    if not isinstance(removed, dict):
        raise Malformed("grant.narrowed without `removed`")
    fields = removed.get("fields", {})
    if not isinstance(fields, dict):
        raise Malformed("`removed.fields` is not an object")
    names = {resource: _strings(listed, "removed.fields") for resource, listed in fields.items()}
    hidden = _strings(removed.get("excluded_student_ids", []), "removed.excluded_student_ids")
    changed = records.forget_fields(school_id, names)
    gone = records.forget_students(school_id, hidden)
    listed = ", ".join(f"{resource}.{name}" for resource, fields in names.items() for name in fields)
    return (
        f"deleted {listed or 'no fields'} from {changed} record(s) and {gone} record(s) of "
        f"{len(hidden)} hidden pupil(s) of school {school_id}"
    )


def _school_id(data: Mapping[str, Any]) -> str:
    school = data.get("school")
    if not isinstance(school, dict) or not isinstance(school.get("id"), str):
        raise Malformed("no school id")
    school_id: str = school["id"]
    return school_id


def _strings(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise Malformed(f"`{name}` is not a list of strings")
    return value
