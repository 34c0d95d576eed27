"""`gateway school export --school ID|URN --output FILE --request ID` (issue 15, item 5), run as an operator
runs it: only under the school's live support approval for `export`, spent by one export."""

from __future__ import annotations

import base64
import json
import os
import stat
import uuid
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.consent.receipts import ReceiptDecision, bind_signer, record_receipt
from gateway.db.base import utcnow
from gateway.keys.keyring import Keyring
from gateway.schools.service import find_school
from gateway.support import requests
from tests.support.audit import events_of
from tests.support.cli import gateway
from tests.support.consent_flow import make_party
from tests.support.databases import MigratedDatabase, migrated_database
from tests.support.exports import check_zip, sha256
from tests.support.grants import connect, record_access
from tests.support.http import TEST_ISSUER


async def load(session: AsyncSession, keyring: Keyring) -> str:
    bind_signer(session, keyring, TEST_ISSUER)
    connected = await connect(session, await make_party(session, keyring, "head@cli-export.example.org"))
    await record_receipt(session, connected.grant, ReceiptDecision.APPROVED, actor="system", now=utcnow())
    await session.commit()
    await record_access(session, connected)
    return connected.party.school.urn


async def approval(database: MigratedDatabase, urn: str, *, approve: bool = True) -> str:
    """A support request for `export` of the school, allowed (as its admin would) unless `approve` is off."""
    async with database.sessions() as session:
        school = await find_school(session, urn)
        row = await requests.request_support(
            session,
            school,
            operator="jo.support",
            reason="The school asked for a copy by phone",
            resources=[],
            hours=1,
            purpose="export",
            now=utcnow(),
        )
        if approve:
            await requests.approve(
                session,
                school.id,
                row.id,
                actor="api_key:abcdefghijkl",
                with_second_factor=True,
                now=utcnow(),
            )
        await session.commit()
        return str(row.id)


async def test_the_command_writes_the_same_zip_to_a_new_file(tmp_path: Path) -> None:
    master = os.urandom(32)
    keyring = Keyring(master)
    async with migrated_database(tmp_path) as database:
        async with database.sessions() as session:
            urn = await load(session, keyring)
        env = {
            "GATEWAY_DATABASE_URL": database.url,
            "GATEWAY_MASTER_KEY": base64.b64encode(master).decode(),
            "GATEWAY_DATA_DIR": str(tmp_path),
            "GATEWAY_ISSUER": TEST_ISSUER,
        }
        target = tmp_path / "export.zip"
        pending = await approval(database, urn, approve=False)
        for request in ("not-an-id", str(uuid.uuid4()), pending):
            refused = gateway(
                "school", "export", "--school", urn, "--output", str(target), "--request", request, env=env
            )
            assert refused.returncode in (1, 2), request
            assert not target.exists()

        unasked = gateway("school", "export", "--school", urn, "--output", str(target), env=env)
        assert unasked.returncode == 1
        assert "has not allowed this" in unasked.stderr
        assert not target.exists()

        allowed = await approval(database, urn)
        made = gateway(
            "school",
            "export",
            "--school",
            urn,
            "--output",
            str(target),
            "--request",
            allowed,
            "--json",
            env=env,
        )
        assert made.returncode == 0, made.stderr
        printed = json.loads(made.stdout)
        data = target.read_bytes()
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        assert (printed["size"], printed["sha256"]) == (len(data), sha256(data))
        assert "export" in made.stderr  # the progress bar
        async with database.sessions() as session:
            manifest = await check_zip(data, session, keyring, database_school_id(printed))
            assert manifest["export_id"] == printed["export_id"]
            assert manifest["counts"] == printed["counts"]
            assert manifest["counts"]["records"]["students"] == 12
            assert await events_of(session, database_school_id(printed), "data.exported") == [
                (
                    "operator",
                    {
                        "export_id": printed["export_id"],
                        "size": printed["size"],
                        "sha256": printed["sha256"],
                        **printed["counts"],
                        "request_id": allowed,
                    },
                )
            ]

        spent = gateway(
            "school",
            "export",
            "--school",
            urn,
            "--output",
            str(tmp_path / "z.zip"),
            "--request",
            allowed,
            env=env,
        )
        assert spent.returncode == 1
        assert "No live approval" in spent.stderr
        assert not (tmp_path / "z.zip").exists()
        again = gateway(
            "school", "export", "--school", urn, "--output", str(target),
            "--request", await approval(database, urn), env=env,
        )  # fmt: skip
        assert again.returncode == 1
        assert "already exists" in again.stderr
        assert target.read_bytes() == data
        unknown = gateway(
            "school", "export", "--school", "999999", "--output", str(tmp_path / "x.zip"),
            "--request", allowed, env=env,
        )  # fmt: skip
        assert unknown.returncode == 1
        assert "No school 999999" in unknown.stderr
        assert not (tmp_path / "x.zip").exists()
        await approval(database, urn)  # the school's newest live approval serves when none is named
        text = gateway("school", "export", "--school", urn, "--output", str(tmp_path / "y.zip"), env=env)
        assert text.returncode == 0, text.stderr
        assert text.stdout.startswith(f"wrote {tmp_path / 'y.zip'}: 18 records")  # 12 pupils, 6 groups


def database_school_id(printed: dict[str, object]) -> uuid.UUID:
    return uuid.UUID(str(printed["school_id"]))
