"""`/metrics` shows retention's last and next run and what it purged, by rule."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.base import utcnow
from gateway.db.session import Database
from gateway.erasure.pupil_purge import erase_pupils
from gateway.jobs.election import run_now
from gateway.jobs.retention import retention_job
from gateway.keys.keyring import Keyring
from gateway.schools.models import School
from tests.support.leavers import DUE


def reading(text: str, name: str) -> float:
    [line] = [line for line in text.splitlines() if line.startswith(name + " ")]
    return float(line.split()[-1])


async def test_metrics_follow_the_retention_job_and_its_purges(
    client: httpx.AsyncClient,
    session: AsyncSession,
    keyring: Keyring,
    loaded: School,
    test_database: Database,
) -> None:
    before = (await client.get("/metrics")).text
    assert 'gateway_retention_purged_rows{rule="former_pupil"} 0.0' in before
    assert 'gateway_retention_purges{rule="inactive"} 0.0' in before

    await erase_pupils(session, keyring, loaded, list(DUE), actor="system", now=utcnow())
    await session.commit()
    now = utcnow()
    await run_now(
        test_database.sessionmaker, retention_job(keyring.master_key, "https://gw.example.org"), now=now
    )

    after = (await client.get("/metrics")).text
    assert 'gateway_retention_purged_rows{rule="former_pupil"} 9.0' in after
    assert 'gateway_retention_purges{rule="former_pupil"} 1.0' in after
    assert 'gateway_retention_purges{rule="deletion_requested"} 0.0' in after
    assert reading(after, "gateway_retention_last_run_timestamp_seconds") == now.timestamp()
    assert (
        reading(after, "gateway_retention_next_run_timestamp_seconds")
        == (now + timedelta(hours=1)).timestamp()
    )
