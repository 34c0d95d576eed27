"""A synthetic school loaded through the connector's write path, an app with a grant, and an oracle.

The oracle (`expected_view`) restates the audience rules of SPEC §3.5 directly on the generated records,
independently of the SQL in `gateway.data_api`, so the tests compare the API against it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.models import App
from gateway.consent.audience import Audience
from gateway.consent.models import Grant
from gateway.db.base import utcnow
from gateway.keys.keyring import Keyring
from gateway.mis.demo_school import demo_batches
from gateway.mis.ingest import apply_batch
from gateway.mis.records import RECORD_MODELS
from gateway.mis.synthetic import SyntheticSchool, generate_school
from gateway.mis.validation import validate_batch
from gateway.schools.models import School
from gateway.schools.service import create_school
from gateway.scopes import SCOPE_NAMES, allowed_fields, format_scopes
from tests.support.http import bearer
from tests.support.world import World

TODAY: date = utcnow().date()  # the API's audience range follows the real calendar
STUDENTS = 60
ALL_SCOPES = list(SCOPE_NAMES)
PATHS = {
    "academic_years": "/api/v1/school/academic-years",
    "subjects": "/api/v1/school/subjects",
    "groups": "/api/v1/groups",
    "students": "/api/v1/students",
    "contacts": "/api/v1/contacts",
    "student_contacts": "/api/v1/student-contacts",
    "staff": "/api/v1/staff",
    "attendance_sessions": "/api/v1/attendance/sessions",
    "attendance_summaries": "/api/v1/attendance/summaries",
    "assessments": "/api/v1/assessments",
    "results": "/api/v1/results",
    "exclusions": "/api/v1/exclusions",
}


@cache
def generated(seed: int, students: int = STUDENTS) -> SyntheticSchool:
    return generate_school(seed, students=students, today=TODAY, attendance_days=3)


def stored_form(resource: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """A record as the gateway keeps it: validated, normalised, empty values left out."""
    model = RECORD_MODELS[resource].model_validate(record, context={"today": TODAY})
    value: dict[str, Any] = json.loads(model.model_dump_json(exclude_none=True))
    return value


@cache
def stored(seed: int, students: int = STUDENTS) -> dict[str, list[dict[str, Any]]]:
    return {
        resource: [stored_form(resource, record) for record in records]
        for resource, records in generated(seed, students).records.items()
    }


async def write(
    session: AsyncSession,
    keyring: Keyring,
    school: School,
    resource: str,
    upserts: list[dict[str, Any]],
    deletes: Iterable[str] = (),
) -> None:
    """One connector batch through `apply_batch`, committed."""
    batch = validate_batch(resource, upserts, list(deletes), today=TODAY)
    await apply_batch(session, keyring, school, batch)
    await session.commit()


async def load_school(session: AsyncSession, keyring: Keyring, seed: int, students: int = STUDENTS) -> School:
    data = generated(seed, students)
    details = data.school
    school = await create_school(
        session,
        urn=details["urn"],
        name=details["name"],
        la_code=details["la_code"],
        establishment_number=details["establishment_number"],
        phase="secondary",
    )
    for resource, records in demo_batches(data):
        batch = validate_batch(resource, records, [], today=TODAY)
        await apply_batch(session, keyring, school, batch)
    await session.commit()
    return school


@dataclass
class Connected:
    """A loaded school, an app, its grant and a token for it."""

    world: World
    school: School
    app: App
    grant: Grant
    token: str
    data: SyntheticSchool

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)

    async def regrant(
        self,
        scopes: Iterable[str],
        audience: dict[str, Any] | None,
        token_scopes: Iterable[str] | None = None,
    ) -> None:
        """Change the live grant in place (as narrowing does) and mint a token for `token_scopes`."""
        self.grant.scopes = format_scopes(set(scopes))
        self.grant.audience_json = Audience.parse(audience).stored_json()
        await self.world.session.commit()
        minted = await self.world.school_token(
            self.app, self.grant, scopes=tuple(token_scopes if token_scopes is not None else scopes)
        )
        self.token = minted.token


async def connect(
    world: World,
    school: School,
    seed: int,
    scopes: Iterable[str] = ALL_SCOPES,
    audience: dict[str, Any] | None = None,
) -> Connected:
    app = await world.app()
    scopes = tuple(scopes)
    grant = await world.grant(school, app, scopes=scopes, audience=audience)
    minted = await world.school_token(app, grant, scopes=scopes)
    return Connected(world, school, app, grant, minted.token, generated(seed))


async def fetch_all(
    client: httpx.AsyncClient, path: str, headers: Mapping[str, str], limit: int = 1500
) -> list[dict[str, Any]]:
    """Every page of a listing, following `next_cursor`."""
    records: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        response = await client.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text[:500]
        body = response.json()
        records.extend(body["data"])
        cursor = body["next_cursor"]
        if cursor is None:
            return records


# --- The oracle -------------------------------------------------------------------------------------------


def academic_year_start(today: date) -> date:
    return date(today.year if today.month >= 9 else today.year - 1, 9, 1)


def _left_before_range(record: Mapping[str, Any]) -> bool:
    end = record.get("end_date")
    return end is not None and date.fromisoformat(end) < academic_year_start(TODAY)


def expected_view(
    records: Mapping[str, list[dict[str, Any]]], scopes: Iterable[str], audience: Mapping[str, Any] | None
) -> dict[str, dict[str, dict[str, Any]]]:
    """resource -> id -> the record as the app should see it (without `updated_at`)."""
    fields = allowed_fields(frozenset(scopes))
    groups = None if audience is None else audience.get("groups")
    exclude = set() if audience is None else set(audience.get("exclude") or ())
    members: dict[str, set[str]] = {}
    for group in records.get("groups", []):
        for pupil in group.get("student_ids", []):
            members.setdefault(pupil, set()).add(group["id"])
    pupils = {
        pupil["id"]
        for pupil in records.get("students", [])
        if pupil["id"] not in exclude
        and not _left_before_range(pupil)
        and (groups is None or members.get(pupil["id"], set()) & set(groups))
    }
    contacts = {
        link["contact_id"] for link in records.get("student_contacts", []) if link["student_id"] in pupils
    }
    view: dict[str, dict[str, dict[str, Any]]] = {}
    for resource, names in fields.items():
        if resource == "school":
            continue
        shown: dict[str, dict[str, Any]] = {}
        for record in records.get(resource, []):
            if resource == "students" and record["id"] not in pupils:
                continue
            if "student_id" in record and resource != "students" and record["student_id"] not in pupils:
                continue
            if resource == "contacts" and record["id"] not in contacts:
                continue
            if resource == "staff" and _left_before_range(record):
                continue
            projected = {name: value for name, value in record.items() if name in names}
            if resource == "groups" and "student_ids" in projected:
                projected["student_ids"] = [pupil for pupil in projected["student_ids"] if pupil in pupils]
            shown[record["id"]] = projected
        view[resource] = shown
    return view
