"""The operator's side, as an operator runs it: `gateway support request|list|read` and `gateway admin add`
on a school with admins (throwaway database, real commits, the school's answers given in between)."""

from __future__ import annotations

import base64
import json
import os
import uuid
from pathlib import Path

from gateway.db.base import utcnow
from gateway.keys.keyring import Keyring
from gateway.support import requests
from tests.support.accounts import make_account
from tests.support.cli import gateway
from tests.support.data_api import write
from tests.support.databases import migrated_database
from tests.support.records import students

ADMIN = "admin:00000000-0000-0000-0000-000000000001"


async def test_request_read_under_approval_and_admin_add_with_leave(tmp_path: Path) -> None:
    master = os.urandom(32)
    async with migrated_database(tmp_path) as database:
        school = await database.school("880301", "Supported Synthetic Academy")
        async with database.sessions() as session:
            await write(session, Keyring(master), school, "students", students(5))
            await make_account(session, "head@supported.example.org", school=school)
        env = {
            "GATEWAY_DATABASE_URL": database.url,
            "GATEWAY_MASTER_KEY": base64.b64encode(master).decode(),
            "GATEWAY_DATA_DIR": str(tmp_path),
        }

        asked = gateway(
            "support", "request", "--school", "880301", "--reason", "Sync reports 3 pupils missing",
            "--resources", "students,groups", "--hours", "2", "--by", "jo.support", "--json", env=env,
        )  # fmt: skip
        assert asked.returncode == 0, asked.stderr
        made = json.loads(asked.stdout)
        assert (made["state"], made["admins_emailed"], made["resources"]) == (
            "pending",
            1,
            ["groups", "students"],
        )
        request_id = made["id"]

        early = gateway("support", "read", "--request", request_id, "--resource", "students", env=env)
        assert early.returncode == 1
        assert "No live approval" in early.stderr
        assert early.stdout == ""

        async with database.sessions() as session:
            await requests.approve(
                session, school.id, uuid.UUID(request_id), actor=ADMIN, with_second_factor=True, now=utcnow()
            )
            await session.commit()
        read = gateway("support", "read", "--request", request_id, "--resource", "students", env=env)
        assert read.returncode == 0, read.stderr
        assert [json.loads(line)["id"] for line in read.stdout.splitlines()] == [
            f"stu-{i:05d}" for i in range(5)
        ]
        other = gateway("support", "read", "--request", request_id, "--resource", "contacts", env=env)
        assert other.returncode == 1
        assert "does not cover" in other.stderr
        listed = gateway("support", "list", "--school", "880301", env=env)
        assert f"{request_id}  live" in listed.stdout

        async with database.sessions() as session:
            await requests.withdraw(session, school.id, uuid.UUID(request_id), actor=ADMIN, now=utcnow())
            await session.commit()
        late = gateway("support", "read", "--request", request_id, "--resource", "students", env=env)
        assert late.returncode == 1
        bad = gateway("support", "read", "--request", "not-an-id", "--resource", "students", env=env)
        assert bad.returncode == 2

        refused = gateway("admin", "add", "--school", "880301", "--email", "me@operator.example.org", env=env)
        assert refused.returncode == 1
        assert "needs their leave" in refused.stderr
        no_reason = gateway("admin", "add", "--school", "880301", "--email", "me@operator.example.org",
                            "--break-glass", env=env)  # fmt: skip
        assert no_reason.returncode == 1
        glass = gateway(
            "admin", "add", "--school", "880301", "--email", "rescue@supported.example.org", "--break-glass",
            "--reason", "The only admin left the school", "--by", "jo.support", "--json", env=env,
        )  # fmt: skip
        assert glass.returncode == 0, glass.stderr
        assert json.loads(glass.stdout)["email"] == "rescue@supported.example.org"
        verified = gateway("audit", "verify", env=env)
        assert verified.returncode == 0, verified.stderr
