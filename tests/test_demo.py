"""The demo loads a synthetic school through the connector's write path; loading twice adds nothing."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gateway.connector.models import ConnectorKey
from gateway.keys.envelope import open_sealed, record_context
from gateway.keys.keyring import Keyring
from gateway.mis.demo_school import load_demo_school
from gateway.mis.models import MisRecordRow
from gateway.mis.synthetic import generate_school
from gateway.schools.models import School

TODAY = date(2025, 11, 20)


async def test_demo_school_loads_once_and_decrypts(engine: AsyncEngine, master_key_b64: str) -> None:
    keyring = Keyring(base64.b64decode(master_key_b64))
    generated = generate_school(42, students=40, today=TODAY, attendance_days=3)
    async with engine.connect() as connection:
        outer = await connection.begin()
        sessions = async_sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        progressed: list[int] = []
        first = await load_demo_school(sessions, keyring, generated, today=TODAY, progress=progressed.append)
        second = await load_demo_school(sessions, keyring, generated, today=TODAY)
        assert first.school_id == second.school_id
        assert sum(progressed) == sum(generated.counts().values())
        async with sessions() as session:
            await check_loaded(session, keyring, generated.counts(), first.school_id)
            keys = (
                await session.scalars(
                    select(ConnectorKey.revoked_at).where(
                        ConnectorKey.school_id == uuid.UUID(first.school_id)
                    )
                )
            ).all()
            assert len(keys) == 2
            assert sum(revoked is None for revoked in keys) == 1
        await outer.rollback()


async def check_loaded(
    session: AsyncSession, keyring: Keyring, counts: dict[str, int], school_id: str
) -> None:
    # Other tests may have committed schools of their own to this run's database: look at ours only.
    assert (
        await session.scalar(
            select(func.count()).select_from(School).where(School.id == uuid.UUID(school_id))
        )
        == 1
    )
    live = dict(
        (
            await session.execute(
                select(MisRecordRow.resource, func.count())
                .where(MisRecordRow.deleted_at.is_(None), MisRecordRow.school_id == uuid.UUID(school_id))
                .group_by(MisRecordRow.resource)
            )
        ).all()
    )
    assert live == {resource: n for resource, n in counts.items() if n}
    row = await session.scalar(
        select(MisRecordRow)
        .where(MisRecordRow.resource == "students", MisRecordRow.school_id == uuid.UUID(school_id))
        .limit(1)
    )
    assert row is not None
    assert row.sealed is not None
    assert row.key_id is not None
    key = await keyring.key(session, row.school_id, row.key_id)
    opened = json.loads(
        open_sealed(key, row.sealed, record_context(school_id, "students", row.record_id, str(row.key_id)))
    )
    assert opened["id"] == row.record_id
