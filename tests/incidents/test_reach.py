"""On a seeded log, an incident's window yields exactly the schools and apps read in it (issue 16, item 2):
both ends of the window count, a second beyond either does not, support reads count without an app, and
`--school` / `--app` narrow the search. What is computed is kept, so the status does not move."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.base import utcnow
from gateway.errors import InvalidInput, NotFound
from gateway.incidents.service import open_incident, status_of
from tests.incidents.conftest import DETECTED, END, SECOND, START, Seeded, read
from tests.support.world import World


@dataclass(frozen=True)
class Case:
    window: tuple[datetime, datetime]
    schools: tuple[str, ...]
    apps: tuple[str, ...]
    expected: dict[str, tuple[set[str], int]]  # school -> (apps, pupils)


CASES = {
    "the window": Case(
        (START, END),
        (),
        (),
        {
            "read": ({"planner", "tracker"}, 2),
            "both_ends": ({"tracker"}, 1),
            "support": (set(), 1),
            "synced": (set(), 0),
            "keyed": (set(), 0),
        },
    ),
    "a second earlier": Case(
        (START - SECOND, END),
        (),
        (),
        {
            "read": ({"planner", "tracker"}, 2),
            "both_ends": ({"planner", "tracker"}, 2),
            "support": (set(), 1),
            "synced": (set(), 0),
            "keyed": (set(), 0),
            "early": ({"planner"}, 1),
        },
    ),
    "a second later": Case(
        (START, END + SECOND),
        (),
        (),
        {
            "read": ({"planner", "tracker"}, 2),
            "both_ends": ({"tracker"}, 1),
            "support": (set(), 1),
            "synced": (set(), 0),
            "keyed": (set(), 0),
            "late": ({"planner"}, 1),
        },
    ),
    "one app": Case((START, END), (), ("planner",), {"read": ({"planner"}, 2)}),
    "one app, wider": Case(
        (START - SECOND, END + SECOND),
        (),
        ("tracker",),
        {"read": ({"tracker"}, 1), "both_ends": ({"tracker"}, 1)},
    ),
    "one school": Case((START, END), ("both_ends",), (), {"both_ends": ({"tracker"}, 1)}),
    "read by support only": Case((START, END), ("support",), (), {"support": (set(), 1)}),
    "support is no app's doing": Case((START, END), ("support",), ("planner",), {}),
    "a quiet school": Case((START - timedelta(days=1), END + timedelta(days=1)), ("quiet",), (), {}),
    "the hour before": Case((START - timedelta(hours=1), START - SECOND * 2), (), (), {}),
}


@pytest.mark.parametrize("name", list(CASES))
async def test_the_window_yields_exactly_the_schools_and_apps_read_in_it(
    name: str, session: AsyncSession, seeded: Seeded
) -> None:
    case = CASES[name]
    incident = await open_incident(
        session,
        summary="A laptop with a planner export was stolen.",
        detected_at=DETECTED,
        window_from=case.window[0],
        window_to=case.window[1],
        school_refs=tuple(seeded.schools[label].urn for label in case.schools),
        client_ids=tuple(seeded.apps[label].client_id for label in case.apps),
        opened_by="ops-alice",
        now=utcnow(),
    )
    await session.commit()
    status = await status_of(session, incident, now=utcnow())
    client_ids = {app.client_id: label for label, app in seeded.apps.items()}
    found = {
        seeded.label(school.school_id): ({client_ids[app] for app in school.apps}, school.pupils)
        for school in status.schools
    }
    assert found == case.expected
    assert set(status.apps) == {
        seeded.apps[app].client_id for apps, _ in case.expected.values() for app in apps
    }
    assert [school.urn for school in status.schools] == sorted(school.urn for school in status.schools)


async def test_what_was_computed_is_kept(session: AsyncSession, world: World, seeded: Seeded) -> None:
    incident = await open_incident(
        session,
        summary="Tokens leaked.",
        detected_at=DETECTED,
        window_from=START,
        window_to=END,
        school_refs=(),
        client_ids=(),
        opened_by="ops-alice",
        now=utcnow(),
    )
    await session.commit()
    before = await status_of(session, incident, now=utcnow())
    await read(session, world, seeded.schools["quiet"], seeded.apps["planner"], START, frozenset({"x"}))
    after = await status_of(session, incident, now=utcnow())
    assert after.schools == before.schools
    assert "quiet" not in {seeded.label(school.school_id) for school in after.schools}
    assert (before.incident.opened_by, before.incident.state) == ("ops-alice", "open")


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"summary": " "}, InvalidInput),
        ({"summary": "x" * 501}, InvalidInput),
        ({"summary": "nul\x00byte"}, InvalidInput),
        ({"opened_by": ""}, InvalidInput),
        ({"detected_at": datetime(2026, 11, 10, 18, 0)}, InvalidInput),
        ({"detected_at": utcnow() + timedelta(hours=1)}, InvalidInput),
        ({"window_from": END, "window_to": START}, InvalidInput),
        ({"school_refs": ("999999",)}, NotFound),
        ({"client_ids": ("no-such-app",)}, NotFound),
    ],
)
async def test_an_incident_that_cannot_be_opened_is_refused(
    changes: dict[str, object], problem: type[Exception], session: AsyncSession
) -> None:
    arguments: dict[str, object] = {
        "summary": "Tokens leaked.",
        "detected_at": DETECTED,
        "window_from": START,
        "window_to": END,
        "school_refs": (),
        "client_ids": (),
        "opened_by": "ops-alice",
        "now": utcnow(),
    } | changes
    with pytest.raises(problem):
        await open_incident(session, **arguments)  # type: ignore[arg-type]
