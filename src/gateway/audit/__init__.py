"""The authorisation log (SPEC §4): append-only, hash-chained per school, verified by `gateway audit verify`.

`chain` is the pure hash chain; `events` the closed set of event types and actors; `details` what an event
may say; `service` records, lists and verifies. The operator's command is `gateway.cli.audit`.
"""

from gateway.audit.chain import (
    BreakReason,
    BrokenLink,
    ChainLink,
    canonical_encoding,
    event_hash,
    verify_chain,
)
from gateway.audit.events import EventType
from gateway.audit.models import AppendOnly, AuditEvent
from gateway.audit.service import ChainReport, UnreadableEvent, list_events, record_event, verify

__all__ = [
    "AppendOnly",
    "AuditEvent",
    "BreakReason",
    "BrokenLink",
    "ChainLink",
    "ChainReport",
    "EventType",
    "UnreadableEvent",
    "canonical_encoding",
    "event_hash",
    "list_events",
    "record_event",
    "verify",
    "verify_chain",
]
