"""A stored export that is not the one built never downloads as if complete (issue 15, item 5).

Each chunk is sealed for its place (school, export, key, number, last or not): a flipped byte, two chunks
swapped or the last one dropped stops the stream before its end (the client, told the length, sees a
broken download), the export becomes `failed`, and nothing says it was downloaded.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.exports.download import ExportDamaged
from gateway.exports.models import Export, ExportChunk
from tests.exports.conftest import Builder
from tests.support.audit import events_of
from tests.support.grants import Connected

URL = "/manage/v1/exports"
SMALL = 512  # bytes a chunk: a small school's export makes several

Tamper = Callable[[AsyncSession, uuid.UUID], Coroutine[Any, Any, None]]


async def chunk(session: AsyncSession, export_id: uuid.UUID, seq: int) -> bytes:
    sealed = await session.scalar(
        select(ExportChunk.sealed).where(ExportChunk.export_id == export_id, ExportChunk.seq == seq)
    )
    assert sealed is not None
    return sealed


async def put(session: AsyncSession, export_id: uuid.UUID, seq: int, sealed: bytes) -> None:
    await session.execute(
        update(ExportChunk)
        .where(ExportChunk.export_id == export_id, ExportChunk.seq == seq)
        .values(sealed=sealed)
    )


async def flip_a_byte(session: AsyncSession, export_id: uuid.UUID) -> None:
    sealed = bytearray(await chunk(session, export_id, 1))
    sealed[20] ^= 0x01
    await put(session, export_id, 1, bytes(sealed))


async def swap_two_chunks(session: AsyncSession, export_id: uuid.UUID) -> None:
    first, second = await chunk(session, export_id, 1), await chunk(session, export_id, 2)
    await put(session, export_id, 1, second)
    await put(session, export_id, 2, first)


async def drop_the_last(session: AsyncSession, export_id: uuid.UUID) -> None:
    last = await session.scalar(select(func.max(ExportChunk.seq)).where(ExportChunk.export_id == export_id))
    await session.execute(
        delete(ExportChunk).where(ExportChunk.export_id == export_id, ExportChunk.seq == last)
    )


async def cut_short(session: AsyncSession, export_id: uuid.UUID) -> None:
    """Drop the last chunk and say there is one chunk fewer: the one before is not sealed as the last."""
    await drop_the_last(session, export_id)
    await session.execute(
        update(Export).where(Export.id == export_id).values(chunk_count=Export.chunk_count - 1)
    )


async def from_another_export(session: AsyncSession, export_id: uuid.UUID) -> None:
    """A chunk copied from the same place of another export of the same school, under the same key."""
    other = await session.scalar(
        select(ExportChunk.export_id).where(ExportChunk.export_id != export_id).limit(1)
    )
    assert other is not None
    await put(session, export_id, 0, await chunk(session, other, 0))


@pytest.mark.parametrize(
    "tamper", [flip_a_byte, swap_two_chunks, drop_the_last, cut_short], ids=lambda tamper: tamper.__name__
)
async def test_a_tampered_export_fails_its_download_cleanly(
    raising_client: httpx.AsyncClient,
    session: AsyncSession,
    loaded: Connected,
    build: Builder,
    tamper: Tamper,
) -> None:
    response = await raising_client.post(URL, headers=loaded.headers)
    export_id = uuid.UUID(response.json()["id"])
    await build(chunk_bytes=SMALL)
    count = await session.scalar(select(func.count()).where(ExportChunk.export_id == export_id))
    assert count is not None
    assert count >= 4
    await tamper(session, export_id)
    await session.commit()

    # The app's own error reaches a client in process; over the network the connection closes short of
    # the `Content-Length` the response announced.
    with pytest.raises(ExportDamaged):
        await raising_client.get(f"{URL}/{export_id}/download", headers=loaded.headers)
    row = await session.get(Export, export_id, populate_existing=True)
    assert row is not None
    assert (row.state, row.failure, row.downloaded_at) == ("failed", "damaged", None)
    assert await session.scalar(select(func.count()).where(ExportChunk.export_id == export_id)) == 0
    shown = (await raising_client.get(f"{URL}/{export_id}", headers=loaded.headers)).json()
    assert shown["state"] == "failed"
    again = await raising_client.get(f"{URL}/{export_id}/download", headers=loaded.headers)
    assert again.status_code == 409


async def test_a_chunk_of_another_export_does_not_open(
    raising_client: httpx.AsyncClient, session: AsyncSession, loaded: Connected, build: Builder
) -> None:
    """Same school, same key, same place: only the export id in its sealing tells the two apart."""
    await raising_client.post(URL, headers=loaded.headers)
    await build(chunk_bytes=SMALL)
    second = uuid.UUID((await raising_client.post(URL, headers=loaded.headers)).json()["id"])
    await build(chunk_bytes=SMALL)
    await from_another_export(session, second)
    await session.commit()

    with pytest.raises(ExportDamaged):
        await raising_client.get(f"{URL}/{second}/download", headers=loaded.headers)
    row = await session.get(Export, second, populate_existing=True)
    assert row is not None
    assert row.state == "failed"
    [(_actor, handed_out)] = await events_of(session, loaded.grant.school_id, "export.downloaded")
    assert handed_out["export_id"] == str(second)  # the attempt is recorded; the export is not downloaded


async def test_a_cut_off_download_is_shorter_than_it_announced(
    client: httpx.AsyncClient, session: AsyncSession, loaded: Connected, build: Builder
) -> None:
    export_id = uuid.UUID((await client.post(URL, headers=loaded.headers)).json()["id"])
    await build(chunk_bytes=SMALL)
    await swap_two_chunks(session, export_id)
    await session.commit()

    download = await client.get(f"{URL}/{export_id}/download", headers=loaded.headers)
    assert download.status_code == 200  # the status went before the first chunk
    assert len(download.content) < int(download.headers["content-length"])
    assert len(download.content) <= SMALL  # chunk 0 only: chunk 1 did not open
