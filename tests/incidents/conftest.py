"""A seeded world for incidents: schools read by apps, by support and by nobody, around one window.

| school | what happened | when |
|---|---|---|
| `read` | Planner read 2 pupils, Tracker read 1 pupil | inside |
| `both_ends` | Tracker read 1 pupil inside; Planner read it 1 second before the window | inside, before |
| `support` | the operator read a pupil's record under an approval (`support.read`), no app | inside |
| `synced` | its MIS ran a full sync | inside |
| `keyed` | a connector key was created | inside |
| `early` | Planner read, and an API key was created, 1 second before the window | before |
| `late` | Planner read 1 second after the window | after |
| `quiet` | nothing | |
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.access_log import pupil_sets
from gateway.access_log.models import DataAccess
from gateway.apps.models import App
from gateway.audit import events
from gateway.audit.events import EventType
from gateway.audit.service import record_event
from gateway.consent.models import Grant
from gateway.mis.models import SyncRun
from gateway.schools.models import School
from tests.support.world import World

START = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
END = datetime(2026, 11, 10, 17, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
DETECTED = datetime(2026, 11, 10, 18, 0, tzinfo=UTC)


@dataclass
class Seeded:
    schools: dict[str, School]
    apps: dict[str, App]

    def label(self, school_id: object) -> str:
        return next(name for name, school in self.schools.items() if school.id == school_id)


async def read(
    session: AsyncSession, world: World, school: School, app: App, at: datetime, pupils: frozenset[str]
) -> None:
    """One data API response of `app` at `school`, at `at`, carrying `pupils`."""
    grant = Grant(school_id=school.id, app_id=app.id, scopes="school students.basic")
    session.add(grant)
    await session.flush()
    digest = pupil_sets.digest_of(pupils)
    await pupil_sets.keep(session, school.id, {digest: pupils})
    session.add(
        DataAccess(
            school_id=school.id,
            app_id=app.id,
            client_id=app.client_id,
            grant_id=grant.id,
            resource="students",
            fields="first_name id",
            record_count=len(pupils),
            occurred_at=at,
            pupil_set=digest,
        )
    )
    await session.commit()


async def support_read(session: AsyncSession, school: School, at: datetime, record_ids: list[str]) -> None:
    """What `gateway support read` leaves in the school's chain (SPEC §3.9), at `at`."""
    await record_event(
        session,
        school_id=school.id,
        event_type=EventType.SUPPORT_READ,
        actor=events.OPERATOR,
        details={
            "request_id": str(uuid.uuid4()),
            "resource": "students",
            "record_ids": record_ids,
            "fields": ["id"],
        },
        occurred_at=at,
    )
    await session.commit()


@pytest.fixture
async def seeded(session: AsyncSession, world: World) -> Seeded:
    names = ["read", "both_ends", "support", "synced", "keyed", "early", "late", "quiet"]
    schools = {
        name: await world.school(f"{name.replace('_', ' ').title()} Synthetic School") for name in names
    }
    apps = {"planner": await world.app("Homework Planner"), "tracker": await world.app("Reading Tracker")}
    inside = START + timedelta(hours=2)
    await read(session, world, schools["read"], apps["planner"], inside, frozenset({"stu-1", "stu-2"}))
    await read(session, world, schools["read"], apps["tracker"], END, frozenset({"stu-2"}))
    await read(session, world, schools["both_ends"], apps["tracker"], START, frozenset({"stu-7"}))
    await read(session, world, schools["both_ends"], apps["planner"], START - SECOND, frozenset({"stu-8"}))
    await read(session, world, schools["early"], apps["planner"], START - SECOND, frozenset({"stu-3"}))
    await read(session, world, schools["late"], apps["planner"], END + SECOND, frozenset({"stu-4"}))
    await support_read(session, schools["support"], inside, ["stu-9"])
    await record_event(
        session,
        school_id=schools["keyed"].id,
        event_type=EventType.CONNECTOR_KEY_CREATED,
        actor=events.OPERATOR,
        details={"prefix": "gw_ck_test"},
        occurred_at=inside,
    )
    await record_event(
        session,
        school_id=schools["early"].id,
        event_type=EventType.API_KEY_CREATED,
        actor=events.OPERATOR,
        details={"prefix": "gw_sk_test"},
        occurred_at=START - SECOND,
    )
    session.add(SyncRun(school_id=schools["synced"].id, resources="students", started_at=inside))
    await session.commit()
    return Seeded(schools, apps)
