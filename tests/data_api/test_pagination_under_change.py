"""Walking a whole school page by page while the connector writes underneath: nothing missed or repeated."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.data_api import PATHS, Connected, fetch_all, stored, write


async def test_walks_see_every_record_once_while_records_change(
    client: httpx.AsyncClient, connected: Connected
) -> None:
    world, school = connected.world, connected.school
    data = stored(7)
    for resource in ("students", "results", "attendance_sessions", "contacts", "groups"):
        path = PATHS[resource]
        before = {record["id"] for record in await fetch_all(client, path, connected.headers)}
        seen: list[str] = []
        deleted: set[str] = set()
        cursor: str | None = None
        page_number = 0
        records = {record["id"]: record for record in data[resource]}
        ordered = sorted(records)
        while True:
            params: dict[str, Any] = {"limit": 9}
            if cursor:
                params["cursor"] = cursor
            response = await client.get(path, params=params, headers=connected.headers)
            assert response.status_code == 200
            body = response.json()
            seen.extend(record["id"] for record in body["data"])
            cursor = body["next_cursor"]
            if cursor is None:
                break
            page_number += 1
            # Between pages: rewrite records on both sides of the position, and delete one ahead.
            last = seen[-1]
            behind = [rid for rid in ordered if rid <= last and rid not in deleted][:2]
            ahead = [rid for rid in ordered if rid > last and rid not in deleted and rid in before]
            if resource != "contacts":
                await write(
                    world.session,
                    world.keyring,
                    school,
                    resource,
                    [records[rid] for rid in behind + ahead[:2]],
                )
            if page_number % 3 == 0 and len(ahead) > 3:
                await write(world.session, world.keyring, school, resource, [], deletes=[ahead[3]])
                deleted.add(ahead[3])
        assert len(seen) == len(set(seen)), f"{resource}: a record was repeated"
        assert set(seen) == before - deleted, f"{resource}: a record was missed"
