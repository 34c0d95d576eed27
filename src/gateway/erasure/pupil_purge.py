"""A former pupil's erasure on their 25th birthday (SPEC §3.8, the `former_pupil` rule).

Who is due: a pupil record whose leaving date (`end_date`, kept in the clear for leaver filtering) has
passed, whose date of birth (sealed) makes them due by `gateway.retention.former_pupil_due`. A pupil
with no date of birth cannot be placed by the rule and is left alone (the plan counts them).

What goes, in one transaction: the pupil's record and every record about them (contact links,
attendance, results, exclusions: each stored row whose pupil column names them), their places in
groups (each group they were in is sealed again without them, so apps see the group change), and each
contact linked to no remaining pupil. Removed records become tombstones (ids only, no content) with new
change numbers, so apps reading the changes feed learn to delete them; apps with a live grant are also
sent `school.data_purged` naming the pupils' ids. The record of what was disclosed about a pupil
(`data_access_pupils`, the MIS id only) stays with the school's disclosure history, which the
whole-school purge removes.

The school's MIS may send an erased pupil again; the next run erases them again. The MIS is where a
school deletes a pupil for good.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby

import orjson
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.consent.models import Grant
from gateway.erasure.school_purge import record_purge, tell_apps
from gateway.keys.envelope import record_context, seal
from gateway.keys.keyring import Keyring
from gateway.mis.models import GroupMembership, MisRecordRow
from gateway.mis.reading import open_rows
from gateway.mis.repository import RecordRepository, UpsertBatch
from gateway.retention import FORMER_PUPIL, former_pupil_due
from gateway.schools.models import School

_CHUNK = 900  # bound parameters per IN list: under SQLite's limit


@dataclass(frozen=True, slots=True)
class FormerPupil:
    student_id: str
    due_on: date


@dataclass(frozen=True, slots=True)
class Leavers:
    """A school's pupils who have left: those the rule places, and how many it cannot (no date of birth)."""

    placed: list[FormerPupil]
    undated: int

    def due_by(self, today: date) -> list[str]:
        return [pupil.student_id for pupil in self.placed if pupil.due_on <= today]


def _chunks(values: Sequence[str]) -> list[Sequence[str]]:
    return [values[start : start + _CHUNK] for start in range(0, len(values), _CHUNK)]


async def leavers(session: AsyncSession, keyring: Keyring, school_id: uuid.UUID) -> Leavers:
    """Every live pupil record with a leaving date, with the day the rule erases them."""
    rows = (
        await session.execute(
            select(MisRecordRow.record_id, MisRecordRow.key_id, MisRecordRow.sealed, MisRecordRow.end_date)
            .where(
                MisRecordRow.school_id == school_id,
                MisRecordRow.resource == "students",
                MisRecordRow.deleted_at.is_(None),
                MisRecordRow.end_date.is_not(None),
            )
            .order_by(MisRecordRow.record_id)
        )
    ).all()
    records = await open_rows(session, keyring, school_id, "students", rows)
    placed: list[FormerPupil] = []
    undated = 0
    for row, record in zip(rows, records, strict=True):
        dob = record.get("dob")
        due = former_pupil_due(date.fromisoformat(dob), row.end_date) if dob else None
        if due is None:
            undated += 1
        else:
            placed.append(FormerPupil(row.record_id, due))
    return Leavers(placed, undated)


async def erase_pupils(
    session: AsyncSession,
    keyring: Keyring,
    school: School,
    student_ids: Sequence[str],
    *,
    actor: str,
    now: datetime,
) -> dict[str, int]:
    """Erase the pupils (see the module's docstring); counts by resource. Nothing to do, nothing recorded."""
    wanted = sorted(set(student_ids))
    if not wanted:
        return {}
    repository = RecordRepository(session, school.id)
    about = await _records_about(session, school.id, wanted)
    links = about.get("student_contacts", [])
    dropped_contacts = await _contacts_left_alone(session, keyring, school.id, links)
    groups = await _groups_of(session, school.id, wanted)
    tombstones = {**about, **({"contacts": dropped_contacts} if dropped_contacts else {})}
    count = sum(len(ids) for ids in tombstones.values()) + len(groups)
    if count == 0:
        return {}
    seq = await repository.allocate_change_seqs(count)
    counts: dict[str, int] = {}
    for resource, ids in sorted(tombstones.items()):
        done = await repository.tombstone(resource, ids, seq)
        seq += len(ids)
        counts[resource] = len(done)
    if groups:
        counts["groups_updated"] = await _reseal_groups_without(
            session, keyring, repository, groups, set(wanted), seq, now
        )
        for chunk in _chunks(wanted):
            await session.execute(
                delete(GroupMembership).where(
                    GroupMembership.school_id == school.id,
                    GroupMembership.role == "student",
                    GroupMembership.member_id.in_(chunk),
                )
            )
    erased = counts.get("students", 0)
    await record_purge(
        session,
        school,
        rule=FORMER_PUPIL.name,
        scope="pupils",
        pupils=erased,
        counts=counts,
        actor=actor,
        now=now,
    )
    live_apps = await session.scalars(
        select(Grant.app_id).where(Grant.school_id == school.id, Grant.revoked_at.is_(None))
    )
    await tell_apps(session, school, list(live_apps), rule=FORMER_PUPIL.name, student_ids=wanted, now=now)
    return counts


async def _records_about(
    session: AsyncSession, school_id: uuid.UUID, wanted: list[str]
) -> dict[str, list[str]]:
    """Live record ids by resource whose pupil column names one of `wanted` (the pupils' own records too)."""
    found: dict[str, list[str]] = {}
    for chunk in _chunks(wanted):
        rows = await session.execute(
            select(MisRecordRow.resource, MisRecordRow.record_id)
            .where(
                MisRecordRow.school_id == school_id,
                MisRecordRow.student_id.in_(chunk),
                MisRecordRow.deleted_at.is_(None),
            )
            .order_by(MisRecordRow.resource, MisRecordRow.record_id)
        )
        for resource, record_id in rows:
            found.setdefault(resource, []).append(record_id)
    return found


async def _contacts_left_alone(
    session: AsyncSession, keyring: Keyring, school_id: uuid.UUID, erased_links: list[str]
) -> list[str]:
    """Contacts linked to the erased pupils and, once those links go, to nobody else."""
    if not erased_links:
        return []
    rows = (
        await session.execute(
            select(MisRecordRow.record_id, MisRecordRow.key_id, MisRecordRow.sealed).where(
                MisRecordRow.school_id == school_id,
                MisRecordRow.resource == "student_contacts",
                MisRecordRow.deleted_at.is_(None),
            )
        )
    ).all()
    records = await open_rows(session, keyring, school_id, "student_contacts", rows)
    erased = set(erased_links)
    losing: set[str] = set()
    keeping: set[str] = set()
    for row, link in zip(rows, records, strict=True):
        (losing if row.record_id in erased else keeping).add(str(link["contact_id"]))
    return sorted(losing - keeping)


async def _groups_of(session: AsyncSession, school_id: uuid.UUID, wanted: list[str]) -> list[str]:
    found: set[str] = set()
    for chunk in _chunks(wanted):
        found.update(
            await session.scalars(
                select(GroupMembership.group_id).where(
                    GroupMembership.school_id == school_id,
                    GroupMembership.role == "student",
                    GroupMembership.member_id.in_(chunk),
                )
            )
        )
    return sorted(found)


async def _reseal_groups_without(
    session: AsyncSession,
    keyring: Keyring,
    repository: RecordRepository,
    group_ids: list[str],
    erased: set[str],
    first_seq: int,
    now: datetime,
) -> int:
    """Seal each group again without the erased pupils in `student_ids`, with a new change number."""
    school_id = repository.school_id
    rows = list(
        await session.scalars(
            select(MisRecordRow)
            .where(
                MisRecordRow.school_id == school_id,
                MisRecordRow.resource == "groups",
                MisRecordRow.record_id.in_(group_ids),
                MisRecordRow.deleted_at.is_(None),
            )
            .order_by(MisRecordRow.last_sync_id.is_(None), MisRecordRow.last_sync_id, MisRecordRow.record_id)
        )
    )
    records = await open_rows(session, keyring, school_id, "groups", rows)
    key_id, key = await keyring.active_key(session, school_id)
    resealed = []
    for row, record in zip(rows, records, strict=True):
        record["student_ids"] = [sid for sid in record.get("student_ids", []) if sid not in erased]
        context = record_context(str(school_id), "groups", row.record_id, str(key_id))
        sealed = seal(key, orjson.dumps(record), context)
        resealed.append(
            (row, (row.record_id, sealed, row.student_id, row.year_code, row.start_date, row.end_date))
        )
    seq = first_seq
    # One batch per full sync that last saw the groups, so a sync in progress still counts them as seen.
    for sync_id, batch in groupby(resealed, key=lambda pair: pair[0].last_sync_id):
        values = [row_values for _, row_values in batch]
        await repository.upsert(UpsertBatch("groups", key_id, seq, now, sync_id, values))
        seq += len(values)
    return len(resealed)
