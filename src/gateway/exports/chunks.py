"""The zip as a stream of chunks, and each chunk sealed where it belongs.

`ChunkSink` is what `zipfile` writes to: a non-seekable file that hands out whole chunks of `CHUNK_BYTES`
as they fill, keeping back the tail until the zip is closed, so the last chunk is known to be the last
when it is sealed. It counts and hashes every byte on the way, so the zip's size and SHA-256 are known
without ever holding the zip.

A stored chunk is `keys.envelope.seal` under the school's data key, with associated data naming the
school, the export, the key, the chunk's place and whether it is the last: a chunk moved to another
place, another export or another school, or a zip cut short after any chunk, does not open.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Final

from gateway.keys.envelope import open_sealed, seal

CHUNK_BYTES: Final = 1024 * 1024


class ChunkSink:
    """A write-only, non-seekable file for `zipfile.ZipFile(sink, "w")`."""

    def __init__(self, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.chunk_bytes = chunk_bytes
        self.size = 0
        self._digest = hashlib.sha256()
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._buffer += data
        self._digest.update(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: chunks are taken with `full_chunks`."""

    @property
    def has_full_chunk(self) -> bool:
        return len(self._buffer) > self.chunk_bytes

    def full_chunks(self) -> list[bytes]:
        """Every whole chunk written so far that more bytes follow (so none of them is the last)."""
        taken = []
        while len(self._buffer) > self.chunk_bytes:
            taken.append(bytes(self._buffer[: self.chunk_bytes]))
            del self._buffer[: self.chunk_bytes]
        return taken

    def last_chunk(self) -> bytes:
        """What is left once the zip is closed: the last chunk (never empty: a zip ends with a record)."""
        rest = bytes(self._buffer)
        self._buffer.clear()
        return rest

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()


@dataclass(frozen=True, slots=True)
class ChunkPlace:
    """Where a sealed chunk belongs; its associated data."""

    school_id: uuid.UUID
    export_id: uuid.UUID
    key_id: uuid.UUID

    def context(self, seq: int, *, last: bool) -> bytes:
        return "|".join(
            (
                "export-chunk",
                str(self.school_id),
                str(self.export_id),
                str(self.key_id),
                str(seq),
                "last" if last else "more",
            )
        ).encode()

    def seal(self, key: bytes, seq: int, data: bytes, *, last: bool) -> bytes:
        return seal(key, data, self.context(seq, last=last))

    def open(self, key: bytes, seq: int, sealed: bytes, *, last: bool) -> bytes:
        """The chunk's bytes; `DecryptionFailed` if it is not the chunk sealed for this place."""
        return open_sealed(key, sealed, self.context(seq, last=last))
