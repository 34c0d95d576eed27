"""The export's zip, written once, front to back, to a sink that never seeks (`chunks.ChunkSink`).

    records/<resource>.jsonl   every live record, as the MIS sent it, one JSON object a line
    records/<resource>.csv     the same records, one column per top-level field (nested values as JSON)
    grants.jsonl               every grant of the school, live or ended, with its approvals
    receipts.jsonl             the signed consent receipts
    access-log.jsonl           the data-access records
    audit-log.jsonl            the authorisation log and its signed checkpoint, as
                               `GET /manage/v1/audit-log/export` writes it (`gateway audit verify --file`)
    manifest.json              the school, the export, the counts, and each file's SHA-256 and size

Resources come in the catalogue's order (`mis.records.RECORD_MODELS`); every entry carries the export's
time, so the same data makes the same bytes. The zip goes out through an `Output` a chunk at a time as the
sink fills: the worker seals chunks into the database, the CLI writes them to a file. Progress (lines
written) is reported every `PROGRESS_EVERY` lines; the worker commits then.
"""

from __future__ import annotations

import hashlib
import json
import uuid
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, Final, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.checkpoints import head_checkpoint
from gateway.audit.export_file import export_lines
from gateway.exports.chunks import CHUNK_BYTES, ChunkSink
from gateway.exports.contents import (
    PAGE,
    Counts,
    access_lines,
    count_school,
    csv_columns,
    csv_line,
    csv_record,
    grant_lines,
    json_line,
    receipt_lines,
    record_pages,
)
from gateway.keys.keyring import Keyring
from gateway.keys.signing import active_signing_key
from gateway.mis.records import RECORD_MODELS
from gateway.schools.models import School

FORMAT: Final = "gateway-school-export/1"
MANIFEST: Final = "manifest.json"
PROGRESS_EVERY: Final = PAGE


class Output(Protocol):
    """Where the zip goes, chunk by chunk, and who hears of progress."""

    async def chunk(self, seq: int, data: bytes, *, last: bool) -> None: ...

    async def progress(self, done: int, total: int) -> None: ...


@dataclass(frozen=True, slots=True)
class Built:
    size: int
    sha256: str
    chunk_count: int
    counts: Counts

    def event_details(self, export_id: uuid.UUID) -> dict[str, Any]:
        """What the authorisation log says of it: ids, counts and the zip's digest, never data."""
        return {
            "export_id": str(export_id),
            "size": self.size,
            "sha256": self.sha256,
            **self.counts.as_json(),
        }


@dataclass(slots=True)
class _Entry:
    path: str
    digest: Any = field(default_factory=hashlib.sha256)
    size: int = 0


class _ZipWriter:
    def __init__(self, output: Output, made_at: datetime, total: int, chunk_bytes: int) -> None:
        self.output = output
        self.sink = ChunkSink(chunk_bytes)
        self.zip = zipfile.ZipFile(self.sink, "w")  # type: ignore[call-overload]  # a write-only stream
        self.date_time = (
            made_at.year,
            made_at.month,
            made_at.day,
            made_at.hour,
            made_at.minute,
            made_at.second,
        )
        self.entries: list[_Entry] = []
        self.seq = 0
        self.done = 0
        self.total = total
        self._reported = 0

    def _open(self, path: str) -> tuple[_Entry, IO[bytes]]:
        info = zipfile.ZipInfo(path, date_time=self.date_time)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o600 << 16
        entry = _Entry(path)
        self.entries.append(entry)
        return entry, self.zip.open(info, "w", force_zip64=True)

    async def _drain(self) -> None:
        for data in self.sink.full_chunks():
            await self.output.chunk(self.seq, data, last=False)
            self.seq += 1

    async def _write(self, entry: _Entry, handle: IO[bytes], data: bytes) -> None:
        handle.write(data)
        entry.digest.update(data)
        entry.size += len(data)
        if self.sink.has_full_chunk:
            await self._drain()

    async def _counted(self) -> None:
        self.done += 1
        if self.done - self._reported >= PROGRESS_EVERY:
            self._reported = self.done
            await self.output.progress(self.done, self.total)

    async def lines(self, path: str, lines: AsyncIterator[bytes]) -> int:
        entry, handle = self._open(path)
        written = 0
        with handle:
            async for line in lines:
                await self._write(entry, handle, line)
                written += 1
                await self._counted()
        return written

    async def records(
        self, session: AsyncSession, keyring: Keyring, school_id: uuid.UUID, resource: str
    ) -> int:
        """records/<resource>.jsonl, then the CSV, whose columns are the fields the first pass saw."""
        seen: set[str] = set()
        entry, handle = self._open(f"records/{resource}.jsonl")
        written = 0
        with handle:
            async for page in record_pages(session, keyring, school_id, resource):
                for record in page:
                    seen.update(record)
                    await self._write(entry, handle, json_line(record))
                    written += 1
                    await self._counted()
        columns = csv_columns(resource, seen)
        entry, handle = self._open(f"records/{resource}.csv")
        with handle:
            await self._write(entry, handle, csv_line(columns))
            async for page in record_pages(session, keyring, school_id, resource):
                for record in page:
                    await self._write(entry, handle, csv_record(columns, record))
                    await self._counted()
        return written

    async def close(self, manifest: dict[str, Any]) -> tuple[int, str, int]:
        manifest["files"] = [
            {"path": entry.path, "sha256": entry.digest.hexdigest(), "size": entry.size}
            for entry in self.entries
        ]
        entry, handle = self._open(MANIFEST)
        with handle:
            await self._write(
                entry, handle, json.dumps(manifest, indent=2, ensure_ascii=False).encode() + b"\n"
            )
        self.entries.pop()  # the manifest does not list itself
        self.zip.close()
        await self._drain()
        await self.output.chunk(self.seq, self.sink.last_chunk(), last=True)
        await self.output.progress(self.done, self.total)
        return self.sink.size, self.sink.sha256, self.seq + 1


async def write_archive(
    session: AsyncSession,
    keyring: Keyring,
    school: School,
    *,
    export_id: uuid.UUID,
    made_at: datetime,
    issuer: str,
    output: Output,
    chunk_bytes: int = CHUNK_BYTES,
) -> Built:
    """Write the school's export to `output` (see the module's docstring) and say what it holds.

    The authorisation log goes up to its head now, with a checkpoint signed now; an event recorded after
    (the export's own `data.exported`) is in the next export. A record that does not open raises
    `DecryptionFailed`, a shredded key `KeyShredded`: then the zip is not finished and must be discarded.
    """
    signing_key = await active_signing_key(session, keyring.master_key)
    audit_seq, _head, checkpoint = await head_checkpoint(
        session, signing_key, issuer=issuer, school_id=school.id, now=made_at
    )
    planned = await count_school(session, school.id, audit_seq)
    writer = _ZipWriter(output, made_at, planned.lines, chunk_bytes)
    await output.progress(0, planned.lines)
    records = {
        resource: await writer.records(session, keyring, school.id, resource) for resource in RECORD_MODELS
    }
    counts = Counts(
        records=records,
        grants=await writer.lines("grants.jsonl", grant_lines(session, school.id)),
        receipts=await writer.lines("receipts.jsonl", receipt_lines(session, school.id)),
        data_accesses=await writer.lines("access-log.jsonl", access_lines(session, school.id)),
        audit_events=await writer.lines(
            "audit-log.jsonl", export_lines(session, school.id, audit_seq, checkpoint)
        )
        - 1,  # the checkpoint line
    )
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "export_id": str(export_id),
        "created_at": made_at.isoformat(),
        "school": {"id": str(school.id), "urn": school.urn, "name": school.name},
        "counts": counts.as_json(),
        "audit_log": {"through_seq": audit_seq},
    }
    size, sha256, chunk_count = await writer.close(manifest)
    return Built(size=size, sha256=sha256, chunk_count=chunk_count, counts=counts)
