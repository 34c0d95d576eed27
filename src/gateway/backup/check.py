"""After a restore: is the database whole? Schema at the migrations' head, every school's authorisation log
verifies, every school data key unwraps under the configured master key, and every table holds as many rows
as the manifest says it did when the backup was made."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from gateway.audit.service import ChainReport, UnreadableEvent, verify
from gateway.backup.archive import Manifest, row_counts
from gateway.db import migrations
from gateway.keys.envelope import DecryptionFailed, master_key_id
from gateway.keys.keyring import Keyring
from gateway.keys.models import SchoolKey
from gateway.schools.models import School


@dataclass
class RestoreCheck:
    revision: str | None = None
    head: str = ""
    schools: int = 0
    broken_chains: list[str] = field(default_factory=list)
    school_keys: int = 0
    unreadable_keys: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    count_mismatches: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def at_head(self) -> bool:
        return self.revision == self.head

    @property
    def ok(self) -> bool:
        return self.at_head and not (self.broken_chains or self.unreadable_keys or self.count_mismatches)

    def failures(self) -> list[str]:
        """What failed, one phrase each, for the operator."""
        failed = []
        if not self.at_head:
            failed.append(f"the schema is at revision {self.revision}, not the migrations' head {self.head}")
        if self.broken_chains:
            failed.append(f"the authorisation log of {', '.join(self.broken_chains)} does not verify")
        if self.unreadable_keys:
            failed.append(
                f"{len(self.unreadable_keys)} school data key(s) do not unwrap with the configured master key"
            )
        if self.count_mismatches:
            tables = ", ".join(
                f"{t} ({b} backed up, {a} restored)" for t, (b, a) in self.count_mismatches.items()
            )
            failed.append(f"row counts differ: {tables}")
        return failed


async def check_restored(engine: AsyncEngine, master_key: bytes, manifest: Manifest) -> RestoreCheck:
    result = RestoreCheck(revision=await migrations.current_revision(engine), head=migrations.head_revision())
    async with engine.connect() as connection:
        result.counts = await row_counts(connection)
    result.count_mismatches = {
        table: (manifest.counts.get(table, 0), result.counts.get(table, 0))
        for table in sorted(set(manifest.counts) | set(result.counts))
        if manifest.counts.get(table, 0) != result.counts.get(table, 0)
    }
    if not result.at_head:  # the models' tables may not match an older schema: check no further
        return result
    keyring = Keyring(master_key)
    async with async_sessionmaker(engine)() as session, session.begin():
        urns = dict((await session.execute(select(School.id, School.urn))).tuples().all())
        result.schools = len(urns)
        try:
            reports: list[ChainReport] = await verify(session)
        except UnreadableEvent as exc:
            result.broken_chains.append(str(exc))
        else:
            result.broken_chains.extend(
                f"school {urns[report.school_id]}" for report in reports if not report.ok
            )
        for key in (await session.scalars(select(SchoolKey))).all():
            result.school_keys += 1
            try:
                await keyring.key(session, key.school_id, key.id)
            except DecryptionFailed:
                owner = urns.get(key.school_id, key.school_id)
                wrapped_by = "" if key.master_key_id == master_key_id(master_key) else ", another master key"
                result.unreadable_keys.append(f"key {key.id} of school {owner}{wrapped_by}")
    return result
