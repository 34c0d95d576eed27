"""`gateway incident open|status|notify|close` as an operator runs them, on a throwaway database."""

from __future__ import annotations

import base64
import json
import os
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from gateway.audit.models import AuditEvent
from gateway.db.base import utcnow
from gateway.email.models import OutboxMessage
from gateway.keys.keyring import Keyring
from gateway.schools.settings import change_settings
from tests.incidents.conftest import read
from tests.support.accounts import make_account
from tests.support.cli import gateway
from tests.support.databases import migrated_database
from tests.support.world import World


async def test_open_status_notify_close(tmp_path: Path) -> None:
    master = os.urandom(32)
    async with migrated_database(tmp_path) as database:
        async with database.sessions() as session:
            world = World(session, Keyring(master), "https://gw.example.org")
            account = await make_account(session, "head@cli.example.org")
            await change_settings(
                session,
                account.school.id,
                dpo_name="Dana Protector",
                dpo_email="dpo@cli.example.org",
                email_on_more_access=True,
                actor="operator",
            )
            app = await world.app("Homework Planner")
            await read(
                session, world, account.school, app, utcnow() - timedelta(hours=1), frozenset({"stu-1"})
            )
            await session.commit()
        env = {
            "GATEWAY_DATABASE_URL": database.url,
            "GATEWAY_MASTER_KEY": base64.b64encode(master).decode(),
            "GATEWAY_DATA_DIR": str(tmp_path),
            "USER": "ops-alice",
        }
        detected = (utcnow() - timedelta(minutes=30)).isoformat()

        naive = gateway("incident", "open", "--summary", "x", "--detected-at", "2026-03-28T00:30", env=env)
        assert naive.returncode == 2
        assert "offset from UTC" in naive.stderr

        opened = gateway(
            "incident", "open", "--summary", "Tokens leaked.", "--detected-at", detected, "--json", env=env
        )
        assert opened.returncode == 0, opened.stderr
        incident = json.loads(opened.stdout)
        assert incident["opened_by"] == "ops-alice"
        assert [(school["urn"], school["apps"], school["pupils"]) for school in incident["schools"]] == [
            (account.school.urn, [app.client_id], 1)
        ]
        assert 71.4 < incident["hours_left"] <= 71.5

        status = gateway("incident", "status", env=env)
        assert status.returncode == 0, status.stderr
        assert f"incident {incident['id']}  open  opened by ops-alice" in status.stdout
        assert "71h 2" in status.stdout
        assert "left (deadline" in status.stdout
        assert "not notified" in status.stdout

        dry = gateway("incident", "notify", "--incident", incident["id"], "--dry-run", env=env)
        assert dry.returncode == 0, dry.stderr
        assert f"would notify {account.school.urn}" in dry.stdout
        assert "1 admin(s) and the data protection contact" in dry.stdout
        assert "Subject: An incident may have affected" in dry.stdout
        assert "@" not in dry.stdout.replace("https://", "")  # counts, not addresses
        async with database.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0

        sent = gateway("incident", "notify", incident["id"], "--json", env=env)
        assert sent.returncode == 0, sent.stderr
        assert json.loads(sent.stdout)["notices"] == [
            {"school_id": str(account.school.id), "urn": account.school.urn, "admins": 1, "dpo_contact": True}
        ]
        again = gateway("incident", "notify", "--incident", incident["id"], env=env)
        assert again.stdout.strip() == "every touched school has been notified already"
        async with database.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 2
            assert (
                await session.scalar(
                    select(func.count()).where(
                        AuditEvent.school_id == account.school.id,
                        AuditEvent.event_type == "incident.notified",
                    )
                )
                == 1
            )
        told = json.loads(gateway("incident", "status", "--json", env=env).stdout)["incidents"][0]["schools"][
            0
        ]
        assert (told["notified_admins"], told["notified_dpo_contact"]) == (1, True)
        assert told["notified_at"] is not None

        both = gateway(
            "incident", "close", incident["id"], "--incident", incident["id"], "--outcome", "x", env=env
        )
        assert both.returncode == 2
        closed = gateway(
            "incident", "close", "--incident", incident["id"], "--outcome", "Keys rotated.", env=env
        )
        assert closed.returncode == 0, closed.stderr
        twice = gateway("incident", "close", "--incident", incident["id"], "--outcome", "Again.", env=env)
        assert twice.returncode == 1
        assert "closed already" in twice.stderr
        unknown = gateway("incident", "notify", "--incident", "not-an-id", env=env)
        assert unknown.returncode == 1
        assert "No incident not-an-id" in unknown.stderr
        assert "closed" in gateway("incident", "status", env=env).stdout
