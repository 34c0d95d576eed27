"""Operator commands for schools and admins, as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import gateway
from tests.support.databases import throwaway_database


async def test_school_and_admin_commands(tmp_path: Path, master_key_b64: str) -> None:
    async with throwaway_database(tmp_path) as url:
        env = {
            "GATEWAY_DATABASE_URL": url,
            "GATEWAY_MASTER_KEY": master_key_b64,
            "GATEWAY_DATA_DIR": str(tmp_path),
            "GATEWAY_ISSUER": "https://gateway.example.org",
        }
        assert gateway("migrate", env=env).returncode == 0
        created = gateway(
            "school",
            "create",
            "--urn",
            "940001",
            "--name",
            "Operator Academy",
            "--la-code",
            "201",
            "--establishment-number",
            "4003",
            "--admin-email",
            "Head@Operator.example.org",
            "--json",
            env=env,
        )
        assert created.returncode == 0, created.stderr
        school = json.loads(created.stdout)
        assert set(school) == {"id", "urn", "name", "admin_id", "admin_email", "setup_link"}
        assert school["admin_email"] == "head@operator.example.org"
        assert school["setup_link"].startswith("https://gateway.example.org/setup?token=gw_su_")

        added = gateway(
            "admin", "add", "--school", "940001", "--email", "office@operator.example.org", "--json", env=env
        )
        assert added.returncode == 0, added.stderr
        assert json.loads(added.stdout)["school_id"] == school["id"]
        duplicate = gateway(
            "admin", "add", "--school", "940001", "--email", "OFFICE@operator.example.org", env=env
        )
        assert duplicate.returncode == 1
        assert "already exists" in duplicate.stderr
        bad = gateway("admin", "add", "--school", "940001", "--email", "not an email", env=env)
        assert bad.returncode == 1
        missing = gateway("admin", "add", "--school", "999999", "--email", "x@operator.example.org", env=env)
        assert missing.returncode == 1
        assert "No school 999999" in missing.stderr

        listed = gateway("admin", "list", "--school", school["id"], env=env)
        assert listed.stdout.splitlines() == [
            "head@operator.example.org  awaiting setup  no TOTP",
            "office@operator.example.org  awaiting setup  no TOTP",
        ]
        assert gateway("admin", "disable", "office@operator.example.org", env=env).returncode == 0
        assert (
            "office@operator.example.org  disabled  no TOTP"
            in gateway("admin", "list", "--school", "940001", env=env).stdout
        )
        assert gateway("admin", "disable", "ghost@operator.example.org", env=env).returncode == 1

        required = gateway("school", "require-totp", "--school", "940001", env=env)
        assert required.stdout.strip() == "Operator Academy: second factor required for admins"
        verified = gateway("audit", "verify", "--school", "940001", env=env)
        assert verified.returncode == 0, verified.stderr
