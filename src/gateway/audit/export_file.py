"""The export of a school's authorisation log as JSON Lines, and its offline check (SPEC §4, §9).

An export is one line per event in chain order, then one checkpoint line:

    {"actor":…,"details":"<stored canonical JSON text>","event_type":…,"hash":…,"id":…,"occurred_at":…,
     "prev_hash":…,"school_id":…,"seq":…}
    …
    {"checkpoint":"<ES256 JWS, typ audit-checkpoint+jwt>"}

Each event line is the canonical encoding (`chain.canonical_encoding`) of exactly the fields its hash
covers plus the two hashes, so `event_hash(prev_hash, line without the hashes)` recomputes `hash` with no
other knowledge; `details` stays the stored text for that reason. The export's own `audit.exported` event
is recorded first and is the last event line: the checkpoint covers it, so the file shows it was made.

`check_export` needs only the file and the gateway's public keys (its JWKS). It fails, naming the line,
when a line is altered (hash mismatch), removed or reordered (sequence gap or previous-hash mismatch),
added after the checkpoint, or added before it (past the checkpoint's seq), when the last event is not
the one the checkpoint names, and when the checkpoint is missing, of another school or not signed by a
key in the JWKS.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.chain import ChainLink, ChainVerifier, canonical_encoding
from gateway.audit.checkpoints import Checkpoint, CheckpointInvalid, read_checkpoint
from gateway.audit.models import AuditEvent
from gateway.audit.repository import AuditLog

CHECKPOINT_FIELD: Final = "checkpoint"
EXPORT_PAGE: Final = 1000  # events read per query while writing an export
_HASHED: Final = ("id", "school_id", "seq", "event_type", "actor", "occurred_at", "details")
_EVENT_FIELDS: Final = frozenset({*_HASHED, "prev_hash", "hash"})


def event_line(row: AuditEvent) -> bytes:
    """One stored event as its export line (ending in a newline)."""
    link = row.chain_link()
    return canonical_encoding({**link.fields, "prev_hash": link.prev_hash, "hash": link.hash}) + b"\n"


def checkpoint_line(token: str) -> bytes:
    return canonical_encoding({CHECKPOINT_FIELD: token}) + b"\n"


async def export_lines(
    session: AsyncSession, school_id: uuid.UUID, through_seq: int, checkpoint: str
) -> AsyncIterator[bytes]:
    """The export's lines: events 1 to `through_seq` read page by page (memory stays flat however long
    the log is), then the checkpoint (`checkpoints.head_checkpoint`, signed at `through_seq`)."""
    log = AuditLog(session, school_id)
    after = 0
    while after < through_seq:
        rows = await log.events(after_seq=after, limit=min(EXPORT_PAGE, through_seq - after))
        if not rows:
            break
        for row in rows:
            yield event_line(row)
        after = rows[-1].seq
    yield checkpoint_line(checkpoint)


@dataclass(frozen=True, slots=True)
class ExportFault:
    """Where an export does not hold: the line (1-based), the event's seq when the line names one."""

    line: int | None
    seq: int | None
    reason: str

    def __str__(self) -> str:
        place = [] if self.line is None else [f"line {self.line}"]
        if self.seq is not None:
            place.append(f"seq {self.seq}")
        return f"{', '.join(place)}: {self.reason}" if place else self.reason


@dataclass(frozen=True, slots=True)
class ExportReport:
    events_checked: int
    school_id: uuid.UUID | None
    checkpoint: Checkpoint | None
    fault: ExportFault | None

    @property
    def ok(self) -> bool:
        return self.fault is None


class _Malformed(ValueError):
    pass


def _event(value: Any) -> tuple[ChainLink, uuid.UUID]:
    """A parsed line as a chain link and its school; `_Malformed` if it is not an event line."""
    if not isinstance(value, dict) or set(value) != _EVENT_FIELDS:
        raise _Malformed("not an event line (wrong fields)")
    seq = value["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise _Malformed("`seq` is not an integer")
    if not all(isinstance(value[name], str) for name in _EVENT_FIELDS - {"seq"}):
        raise _Malformed("a field that must be text is not")
    try:
        event_id, school_id = uuid.UUID(value["id"]), uuid.UUID(value["school_id"])
    except ValueError:
        raise _Malformed("`id` or `school_id` is not a UUID") from None
    fields = {name: value[name] for name in _HASHED}
    return ChainLink(id=event_id, seq=seq, prev_hash=value["prev_hash"], hash=value["hash"], fields=fields), (
        school_id
    )


def check_export(lines: Iterable[bytes], keys: Mapping[str, Mapping[str, Any]]) -> ExportReport:
    """Check an export line by line against the gateway's public keys (JWKs by kid)."""
    verifier = ChainVerifier()
    school: uuid.UUID | None = None
    last: ChainLink | None = None
    checkpoint_at: int | None = None
    token: str | None = None

    def report(fault: ExportFault | None, checkpoint: Checkpoint | None = None) -> ExportReport:
        return ExportReport(verifier.checked, school, checkpoint, fault)

    number = 0
    for number, raw in enumerate(lines, start=1):
        if checkpoint_at is not None:
            return report(ExportFault(number, None, f"a line after the checkpoint (line {checkpoint_at})"))
        try:
            value = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return report(ExportFault(number, None, "not a JSON line"))
        if isinstance(value, dict) and set(value) == {CHECKPOINT_FIELD}:
            if not isinstance(value[CHECKPOINT_FIELD], str):
                return report(ExportFault(number, None, "the checkpoint is not a JWS"))
            token, checkpoint_at = value[CHECKPOINT_FIELD], number
            continue
        try:
            link, line_school = _event(value)
        except _Malformed as exc:
            return report(ExportFault(number, None, str(exc)))
        if school is None:
            school = line_school
        elif line_school != school:
            return report(ExportFault(number, link.seq, "an event of another school"))
        broken = verifier.check(link)
        if broken is not None:
            return report(ExportFault(number, link.seq, str(broken.reason)))
        last = link
    if token is None or checkpoint_at is None:
        return report(ExportFault(None, None, "no checkpoint line: the export is incomplete or cut short"))
    try:
        checkpoint = read_checkpoint(token, keys)
    except CheckpointInvalid as exc:
        return report(ExportFault(checkpoint_at, None, f"the checkpoint is not valid: {exc}"))
    if school is not None and checkpoint.school_id != school:
        return report(ExportFault(checkpoint_at, None, "the checkpoint is of another school"), checkpoint)
    last_seq = 0 if last is None else last.seq
    if last_seq > checkpoint.seq:
        line = checkpoint_at - (last_seq - checkpoint.seq)
        reason = f"an event past the checkpoint's last seq {checkpoint.seq}: lines were added"
        return report(ExportFault(line, checkpoint.seq + 1, reason), checkpoint)
    if last_seq < checkpoint.seq:
        reason = (
            f"the checkpoint names seq {checkpoint.seq} but the events end at seq {last_seq}: "
            f"events {last_seq + 1} to {checkpoint.seq} were removed"
        )
        return report(ExportFault(checkpoint_at, last_seq + 1, reason), checkpoint)
    if last is not None and last.hash != checkpoint.hash:
        return report(
            ExportFault(checkpoint_at - 1, last_seq, "its hash is not the one the checkpoint names"),
            checkpoint,
        )
    return report(None, checkpoint)
