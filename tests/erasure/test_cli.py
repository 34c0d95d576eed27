"""`gateway retention plan|run` on a seeded database: the right schools, rules and days; a run purges them,
a second does nothing; afterwards no erased pupil's record can be found in the database files or opened."""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from gateway.erasure.models import PurgeRecord
from gateway.erasure.requests import request_deletion
from gateway.keys.keyring import Keyring
from gateway.mis.models import MisRecordRow
from tests.support.at_rest import everything_stored
from tests.support.cli import gateway
from tests.support.databases import backend, migrated_database
from tests.support.leavers import DUE, identifying_values, load_leavers_school

ASKED = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # a deletion asked then was due on Monday 9 November 2026


async def test_plan_then_run_then_nothing_and_no_trace_of_the_erased(tmp_path: Path) -> None:
    master = os.urandom(32)
    keyring = Keyring(master)
    async with migrated_database(tmp_path) as database:
        staying = await database.school("880001", "Staying Synthetic Academy")
        leaving = await database.school("880002", "Leaving Synthetic Academy")
        async with database.sessions() as session:
            await load_leavers_school(session, keyring, staying)
            await load_leavers_school(session, keyring, leaving)
            erased_ciphertexts = list(
                await session.scalars(
                    select(MisRecordRow.sealed).where(
                        MisRecordRow.school_id == staying.id, MisRecordRow.student_id.in_(DUE)
                    )
                )
            )
            await request_deletion(session, leaving, actor="operator", now=ASKED)
            await session.commit()
        env = {
            "GATEWAY_DATABASE_URL": database.url,
            "GATEWAY_MASTER_KEY": base64.b64encode(master).decode(),
            "GATEWAY_DATA_DIR": str(tmp_path),
        }

        planned = gateway("retention", "plan", "--today", "2026-11-06", "--json", env=env)
        assert planned.returncode == 0, planned.stderr
        items = [
            (item["urn"], item["rule"], item["due_on"], item["pupils"], item["due"])
            for item in json.loads(planned.stdout)["items"]
        ]
        assert items == [
            ("880001", "former_pupil", "2025-03-01", 2, True),
            ("880002", "former_pupil", "2025-03-01", 2, True),
            ("880002", "deletion_requested", "2026-11-09", 8, False),
        ]
        assert json.loads(planned.stdout)["undated_leavers"] == {"880001": 1, "880002": 1}
        text = gateway("retention", "plan", "--today", "2026-11-09", env=env)
        assert text.returncode == 0, text.stderr
        assert "880002  deletion_requested  purge   2026-11-09        8  due now" in text.stdout
        for values in identifying_values().values():
            assert not any(value in text.stdout for value in values)

        dry = gateway("retention", "run", "--dry-run", env=env)
        assert dry.returncode == 0, dry.stderr
        assert "dry run: would purge 880002 under deletion_requested" in dry.stdout
        future = gateway("retention", "run", "--today", "2999-01-01", env=env)
        assert future.returncode == 1
        assert "in the future" in future.stderr
        async with database.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(PurgeRecord)) == 0

        ran = gateway("retention", "run", env=env)
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.splitlines() == [
            "880001: purged under former_pupil: 9 rows (2 pupils)",
            "880002: purged under deletion_requested: 25 rows (8 pupils)",
        ]
        again = gateway("retention", "run", "--json", env=env)
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout)["schools"] == []

        async with database.sessions() as session:
            rules = await session.execute(
                select(PurgeRecord.rule, PurgeRecord.scope).order_by(PurgeRecord.rule)
            )
            assert rules.all() == [("deletion_requested", "school"), ("former_pupil", "pupils")]
        data_file = Path(database.url.removeprefix("sqlite+aiosqlite:///")) if backend() == "sqlite" else None
        stored = await everything_stored(database.url, data_file)
        for values in identifying_values().values():
            for value in values:
                assert value not in stored
        raw = stored.encode("latin-1") if data_file is not None else stored.encode()
        for sealed in erased_ciphertexts:
            assert sealed is not None
            # On SQLite the file bytes themselves; on PostgreSQL every row, as bytea renders.
            assert (sealed[:48] if data_file is not None else repr(sealed[:24])[2:-1].encode()) not in raw
