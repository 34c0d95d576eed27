"""`/metrics`: the hours left of the most urgent open incident that still has a school to tell; +Inf when
none waits (so an alert on `gateway_incident_deadline_hours_left < 24` stays quiet)."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.base import utcnow
from gateway.incidents import notices
from gateway.incidents.models import Incident
from gateway.incidents.service import close_incident, open_incident
from tests.incidents.conftest import END, START, Seeded
from tests.support.accounts import ISSUER

GAUGE = "gateway_incident_deadline_hours_left"


def reading(text: str) -> float:
    [line] = [line for line in text.splitlines() if line.startswith(GAUGE + " ")]
    return float(line.split()[-1])


async def test_the_gauge_follows_the_most_urgent_incident_waiting_for_a_notice(
    client: httpx.AsyncClient, session: AsyncSession, seeded: Seeded
) -> None:
    assert reading((await client.get("/metrics")).text) == float("inf")
    now = utcnow()

    async def incident(hours_ago: float, school: str) -> Incident:
        opened = await open_incident(
            session,
            summary="Tokens leaked.",
            detected_at=now - timedelta(hours=hours_ago),
            window_from=START,
            window_to=END,
            school_refs=(seeded.schools[school].urn,),
            client_ids=(),
            opened_by="ops-alice",
            now=now,
        )
        await session.commit()
        return opened

    later = await incident(2, "read")
    sooner = await incident(10, "synced")
    await incident(80, "quiet")  # touched nothing: nobody to tell, no clock
    assert 61.9 < reading((await client.get("/metrics")).text) <= 62.0

    await notices.notify(session, sooner, issuer=ISSUER, now=utcnow())
    await session.commit()
    assert 69.9 < reading((await client.get("/metrics")).text) <= 70.0

    await close_incident(session, later, outcome="False alarm.", now=utcnow())
    await session.commit()
    assert reading((await client.get("/metrics")).text) == float("inf")
