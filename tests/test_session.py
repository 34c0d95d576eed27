"""The request session commits when the handler succeeds and rolls back when it fails."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.session import SessionDep
from gateway.errors import Conflict
from gateway.schools.models import School

router = APIRouter()


@router.post("/probe/schools/{urn}")
async def add_school(urn: str, session: SessionDep, fail: bool = False) -> dict[str, str]:
    school = School(
        urn=urn, name="Synthetic Academy", la_code="201", establishment_number="4001", phase="secondary"
    )
    session.add(school)
    await session.flush()
    if fail:
        raise Conflict("Refused after writing.")
    return {"id": str(school.id)}


@pytest.fixture
def probe_app(app: FastAPI) -> FastAPI:
    app.include_router(router)
    return app


async def _count(session: AsyncSession, urn: str) -> int:
    return int(await session.scalar(select(func.count()).select_from(School).where(School.urn == urn)) or 0)


async def test_commit_on_success_and_rollback_on_error(probe_app: FastAPI, session: AsyncSession) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=probe_app), base_url="http://t") as client:
        ok = await client.post("/probe/schools/100001")
        assert ok.status_code == 200
        uuid.UUID(ok.json()["id"])
        failed = await client.post("/probe/schools/100002", params={"fail": "true"})
        assert failed.status_code == 409
    assert await _count(session, "100001") == 1
    assert await _count(session, "100002") == 0


async def test_tests_are_isolated_from_each_other(session: AsyncSession) -> None:
    # The previous test's committed school lived in a rolled-back outer transaction.
    assert await _count(session, "100001") == 0
