"""`gateway school export`: the operator writes a school's complete copy of its data to a file (SPEC §9).

The same zip as `POST /manage/v1/exports` builds (`gateway.exports.archive`), written straight to FILE as
it is made (mode 0600; an existing file is never overwritten), with a progress bar on stderr. It opens
every record of the school, so it needs the school's leave: a live support approval for `export`
(`gateway.support`), spent by this one export. It is a `data.exported` event in the school's log, actor
`operator`, naming the approval, once the file is complete; a failed export removes the partial file,
records nothing and leaves the approval unspent.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path
from typing import Any

import click
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from gateway.audit import events
from gateway.audit.events import EventType
from gateway.audit.service import record_event
from gateway.cli.common import CommandFailed, command_settings, emit, fail_cleanly, run_unbounded
from gateway.cli.support import request_uuid
from gateway.db import migrations
from gateway.db.base import utcnow
from gateway.errors import Problem
from gateway.exports.archive import write_archive
from gateway.keys.envelope import DecryptionFailed
from gateway.keys.keyring import Keyring, KeyShredded
from gateway.keys.master import resolve_master_key
from gateway.schools.service import find_school
from gateway.support.requests import RequestNotLive, live_request, school_approval, use_once


class _FileOutput:
    """`archive.Output` to an open file, with a progress bar."""

    def __init__(self, fd: int, bar: Any) -> None:
        self.fd, self.bar, self.shown = fd, bar, 0

    async def chunk(self, seq: int, data: bytes, *, last: bool) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]

    async def progress(self, done: int, total: int) -> None:
        self.bar.length = max(total, 1)
        self.bar.update(done - self.shown)
        self.shown = done


def _create_exclusive(path: Path) -> int:
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CommandFailed(f"{path} already exists: an export never overwrites a file") from None
    except OSError as exc:
        raise CommandFailed(f"cannot create {path} ({type(exc).__name__})") from None


def _discard(path: Path) -> None:
    """Remove a partial export: a file that is not the whole zip must not look like one."""
    path.unlink(missing_ok=True)


@click.command("export")
@click.option("--school", "school_ref", required=True, help="School id or URN.")
@click.option(
    "--output",
    "output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The zip to write (mode 0600; must not exist).",
)
@click.option(
    "--request",
    "request_ref",
    default=None,
    help="The school's live support approval for `export` (default: its newest live one).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@fail_cleanly
def school_export(school_ref: str, output: Path, request_ref: str | None, as_json: bool) -> None:
    """Write a complete copy of a school's data to a zip: every live MIS record (JSON Lines and CSV), the
    grants, consent receipts, data-access records and authorisation log, and a manifest of SHA-256s."""
    settings = command_settings()
    request_id = request_uuid(request_ref) if request_ref is not None else None
    keyring = Keyring(resolve_master_key(settings))

    async def work(engine: AsyncEngine) -> dict[str, Any]:
        if not await migrations.is_at_head(engine):
            raise CommandFailed("the database is not migrated: run `gateway migrate` first")
        export_id = uuid.uuid4()
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            try:
                school = await find_school(session, school_ref)
                if request_id is None:
                    approval = await school_approval(session, school.id, purpose="export", now=utcnow())
                else:
                    approval = await live_request(session, request_id, purpose="export", now=utcnow())
                if approval.school_id != school.id:
                    raise RequestNotLive("That approval is for another school.")
                await use_once(session, approval, now=utcnow())  # held until the export commits
            except Problem as exc:
                raise CommandFailed(exc.detail) from None
            fd = _create_exclusive(output)
            try:
                with click.progressbar(length=1, label="export", file=sys.stderr) as bar:
                    built = await write_archive(
                        session,
                        keyring,
                        school,
                        export_id=export_id,
                        made_at=utcnow(),
                        issuer=settings.issuer,
                        output=_FileOutput(fd, bar),
                    )
                os.fsync(fd)
            except BaseException as exc:
                os.close(fd)
                _discard(output)
                if isinstance(exc, DecryptionFailed | KeyShredded):
                    raise CommandFailed(
                        f"a record of school {school.id} does not open ({type(exc).__name__}): "
                        "nothing was exported"
                    ) from None
                raise
            os.close(fd)
            await record_event(
                session,
                school_id=school.id,
                event_type=EventType.EXPORT,
                actor=events.OPERATOR,
                details=built.event_details(export_id) | {"request_id": str(approval.id)},
            )
            await session.commit()
        return {
            "export_id": str(export_id),
            "school_id": str(school.id),
            "file": str(output),
            "size": built.size,
            "sha256": built.sha256,
            "counts": built.counts.as_json(),
        }

    done = run_unbounded(settings, work)
    records = sum(done["counts"]["records"].values())
    emit(
        as_json,
        done,
        [f"wrote {done['file']}: {records} records, {done['size']} bytes, SHA-256 {done['sha256']}"],
    )
