"""`gateway audit verify` as an operator runs it (SPEC §1, §4): ok per school, or exit 1 naming the event."""

from __future__ import annotations

import base64
import json
import os
import uuid
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker

from gateway.audit.events import EventType, admin, app
from gateway.audit.models import AuditEvent
from gateway.audit.service import record_event
from gateway.db.engine import create_engine
from gateway.settings import Settings
from tests.support.cli import gateway
from tests.support.databases import throwaway_database


def create_school(env: dict[str, str], urn: str) -> dict[str, str]:
    created = gateway(
        "school",
        "create",
        *(
            "--urn",
            urn,
            "--name",
            f"Audit School {urn}",
            "--la-code",
            "201",
            "--establishment-number",
            "4001",
        ),
        "--json",
        env=env,
    )
    assert created.returncode == 0, created.stderr
    school: dict[str, str] = json.loads(created.stdout)
    return school


async def record_three(url: str, school_id: uuid.UUID) -> list[AuditEvent]:
    engine = create_engine(Settings(database_url=url))
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session, session.begin():
            return [
                await record_event(
                    session,
                    school_id=school_id,
                    event_type=EventType.GRANT_APPROVED,
                    actor=admin(uuid.uuid4()),
                    details={"scopes": ["school", "students.basic"]},
                ),
                await record_event(
                    session,
                    school_id=school_id,
                    event_type=EventType.DATA_ACCESSED,
                    actor=app("client-1"),
                    details={"resource": "students", "records": 25},
                ),
                await record_event(
                    session, school_id=school_id, event_type=EventType.EXPORT, actor="operator"
                ),
            ]
    finally:
        await engine.dispose()


async def change_details(url: str, event: AuditEvent) -> None:
    engine = create_engine(Settings(database_url=url))
    try:
        async with engine.begin() as connection:
            table = AuditEvent.metadata.tables["audit_events"]
            await connection.execute(
                update(table)
                .where(table.c.id == event.id)
                .values(details='{"records":1,"resource":"students"}')
            )
    finally:
        await engine.dispose()


async def test_verify_from_the_command_line(tmp_path: Path) -> None:
    async with throwaway_database(tmp_path) as url:
        env = {
            "GATEWAY_DATABASE_URL": url,
            "GATEWAY_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
            "GATEWAY_DATA_DIR": str(tmp_path),
        }
        unmigrated = gateway("audit", "verify", env=env)
        assert (unmigrated.returncode, unmigrated.stderr) == (
            1,
            "gateway: the database is not migrated: run `gateway migrate` first\n",
        )
        assert gateway("migrate", env=env).returncode == 0
        assert gateway("audit", "verify", env=env).stdout == "no schools\n"

        school = create_school(env, "830001")
        quiet = create_school(env, "830002")
        events = await record_three(url, uuid.UUID(school["id"]))

        intact = gateway("audit", "verify", env=env)
        assert intact.returncode == 0, intact.stderr
        assert intact.stdout.splitlines() == [  # school.created, then the three recorded here
            f"school 830001 ({school['id']}): ok, 4 events",
            f"school 830002 ({quiet['id']}): ok, 1 event",
        ]
        one = gateway("audit", "verify", "--school", "830001", "--json", env=env)
        assert one.returncode == 0, one.stderr
        assert json.loads(one.stdout) == {
            "ok": True,
            "schools": [
                {
                    "school_id": school["id"],
                    "urn": "830001",
                    "ok": True,
                    "events_checked": 4,
                    "broken": None,
                    "checkpoint": None,
                    "checkpoint_fault": None,
                }
            ],
        }

        await change_details(url, events[1])
        broken = gateway("audit", "verify", env=env)
        assert broken.returncode == 1
        named = f"seq 3, event {events[1].id}: hash mismatch"
        assert broken.stderr == f"gateway: the authorisation log of school 830001 is broken: {named}\n"
        assert broken.stdout.splitlines() == [
            f"school 830001 ({school['id']}): BROKEN at {named}",
            f"school 830002 ({quiet['id']}): ok, 1 event",
        ]
        as_json = gateway("audit", "verify", "--json", "--school", school["id"], env=env)
        assert as_json.returncode == 1
        assert json.loads(as_json.stdout)["ok"] is False
        assert json.loads(as_json.stdout)["schools"][0]["broken"] == {
            "seq": 3,
            "event_id": str(events[1].id),
            "reason": "hash mismatch",
        }

        missing = gateway("audit", "verify", "--school", "999999", env=env)
        assert (missing.returncode, missing.stderr) == (1, "gateway: No school 999999.\n")
        assert "Traceback" not in broken.stderr + as_json.stderr + missing.stderr
