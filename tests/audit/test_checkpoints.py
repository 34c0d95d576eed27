"""Daily signed checkpoints of every chain head: cutting the newest events off a live chain is caught."""

from __future__ import annotations

import base64
import json
import os
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.audit.checkpoints import store_checkpoints
from gateway.audit.events import EventType
from gateway.audit.models import AuditCheckpoint, AuditEvent
from gateway.audit.service import record_event, verify
from gateway.db.base import utcnow
from gateway.db.engine import create_engine
from gateway.jobs.checkpoints import AUDIT_CHECKPOINT, CHECKPOINT_INTERVAL, checkpoint_job
from gateway.jobs.election import Outcome, run_if_due
from gateway.settings import Settings
from tests.audit.conftest import make_school
from tests.audit.test_cli import create_school, record_three
from tests.support.cli import gateway
from tests.support.databases import throwaway_database


async def cut_newest(url: str, school_id: uuid.UUID, how_many: int) -> None:
    engine = create_engine(Settings(database_url=url))
    try:
        async with engine.begin() as connection:
            table = AuditEvent.metadata.tables["audit_events"]
            newest = await connection.scalar(
                select(func.max(table.c.seq)).where(table.c.school_id == school_id)
            )
            await connection.execute(
                delete(table).where(table.c.school_id == school_id, table.c.seq > newest - how_many)
            )
    finally:
        await engine.dispose()


async def test_truncating_a_live_chain_after_a_checkpoint_fails_verify(tmp_path: Path) -> None:
    async with throwaway_database(tmp_path) as url:
        env = {
            "GATEWAY_DATABASE_URL": url,
            "GATEWAY_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
            "GATEWAY_DATA_DIR": str(tmp_path),
        }
        assert gateway("migrate", env=env).returncode == 0
        school = create_school(env, "840001")
        quiet = create_school(env, "840002")
        await record_three(url, uuid.UUID(school["id"]))

        signed = gateway("audit", "checkpoint", "--json", env=env)
        assert signed.returncode == 0, signed.stderr
        assert json.loads(signed.stdout) == {"audit_checkpoints": 2}
        intact = gateway("audit", "verify", env=env)
        assert intact.returncode == 0, intact.stderr
        assert intact.stdout.splitlines() == [
            # school.created, then the three recorded here
            f"school 840001 ({school['id']}): ok, 4 events (checkpoint at seq 4 holds)",
            f"school 840002 ({quiet['id']}): ok, 1 event (checkpoint at seq 1 holds)",
        ]
        # Events after the checkpoint are fine; removing them is not detectable until the next one.
        await record_three(url, uuid.UUID(school["id"]))
        assert gateway("audit", "verify", env=env).returncode == 0

        # Cut the newest four: the chain (seq 1-3) still holds on its own, but not against seq 4.
        await cut_newest(url, uuid.UUID(school["id"]), 4)
        broken = gateway("audit", "verify", "--json", env=env)
        assert broken.returncode == 1
        (first, second) = json.loads(broken.stdout)["schools"]
        assert first["broken"] is None
        assert first["checkpoint_fault"]["seq"] == 4
        assert second["ok"] is True
        text = gateway("audit", "verify", "--school", "840001", env=env)
        assert text.returncode == 1
        assert text.stderr.startswith(
            "gateway: the authorisation log of school 840001 is broken: seq 4: the chain ends at seq 3 but "
            "the checkpoint signed "
        )
        assert "events 4 to 4 are missing" in text.stderr
        assert "Traceback" not in text.stderr


async def test_a_changed_event_or_a_forged_checkpoint_fails(session: AsyncSession, master_key: bytes) -> None:
    school = await make_school(session, "Checkpoint Academy")
    for _ in range(2):
        await record_event(session, school_id=school.id, event_type=EventType.PURGE, actor="system")
    (made,) = [
        c
        for c in await store_checkpoints(session, master_key, issuer="http://t", now=utcnow())
        if c.school_id == school.id
    ]
    (report,) = await verify(session, school.id)
    assert report.ok
    assert report.checkpoint is not None
    assert report.checkpoint.seq == 2

    made.hash = "0" * 64  # the stored columns no longer match what was signed
    await session.flush()
    (report,) = await verify(session, school.id)
    assert not report.ok
    assert report.checkpoint_fault is not None
    assert "its signed claims differ from its stored columns" in report.checkpoint_fault.reason


async def test_the_job_signs_once_per_interval(master_key: bytes, tmp_path: Path) -> None:
    async with throwaway_database(tmp_path) as url:
        assert (
            gateway(
                "migrate", env={"GATEWAY_DATABASE_URL": url, "GATEWAY_DATA_DIR": str(tmp_path)}
            ).returncode
            == 0
        )
        create_school(
            {
                "GATEWAY_DATABASE_URL": url,
                "GATEWAY_DATA_DIR": str(tmp_path),
                "GATEWAY_MASTER_KEY": base64.b64encode(master_key).decode(),
            },
            "850001",
        )
        own = create_engine(Settings(database_url=url))
        try:
            sessions = async_sessionmaker(own, expire_on_commit=False)
            job = checkpoint_job(master_key, "http://127.0.0.1:8000")
            assert (job.name, job.interval) == (
                AUDIT_CHECKPOINT,
                timedelta(days=1),
            )
            assert job.interval == CHECKPOINT_INTERVAL
            now = utcnow()
            first = await run_if_due(sessions, job, now=now)
            assert first.outcome is Outcome.RAN
            assert first.counts == {"audit_checkpoints": 1}
            again = await run_if_due(sessions, job, now=now + timedelta(hours=23))
            assert again.outcome is Outcome.NOT_DUE
            later = await run_if_due(sessions, job, now=now + timedelta(days=1, seconds=1))
            assert later.outcome is Outcome.RAN
            async with sessions() as session:
                assert await session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 2
        finally:
            await own.dispose()
