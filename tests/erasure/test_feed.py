"""Apps learn of an erasure from the changes feed: a replayed copy loses the erased pupil and their records,
and still equals what the data API shows."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.base import utcnow
from gateway.erasure.pupil_purge import erase_pupils, leavers
from gateway.keys.keyring import Keyring
from tests.data_api.test_changes import current_view, replay
from tests.support.data_api import connect, load_school, write
from tests.support.records import student
from tests.support.world import World

SEED = 41


async def test_a_replayed_copy_loses_the_erased_pupil(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring, world: World
) -> None:
    school = await load_school(session, keyring, SEED, students=20)
    # A post-16 learner, 23 when they started, 25 already, who leaves today: visible to apps (they left in
    # this academic year) and due tomorrow, the day after their leaving date.
    today = utcnow().date()
    born = date(today.year - 25, today.month, min(today.day, 28))
    learner = student(
        990,
        id="post16-1",
        dob=born.isoformat(),
        start_date=date(today.year - 2, today.month, min(today.day, 28)).isoformat(),
        end_date=today.isoformat(),
    )
    await write(session, keyring, school, "students", [learner])
    connected = await connect(world, school, SEED)
    copy: dict[tuple[str, str], dict[str, object]] = {}
    cursor, _ = await replay(client, connected, copy, None)
    assert ("students", "post16-1") in copy

    due = (await leavers(session, keyring, school.id)).due_by(today + timedelta(days=1))
    assert "post16-1" in due
    await erase_pupils(session, keyring, school, due, actor="system", now=utcnow())
    await session.commit()

    _cursor, events = await replay(client, connected, copy, cursor)
    assert {"resource": "students", "id": "post16-1", "deleted": True} in [
        {key: event.get(key) for key in ("resource", "id", "deleted")} for event in events
    ]
    assert ("students", "post16-1") not in copy
    assert copy == await current_view(client, connected)
