"""`gateway developer create` as an operator runs it; the key it prints works against a real server."""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

import httpx

from tests.support.cli import gateway
from tests.support.databases import throwaway_database
from tests.support.server import gateway_server

KEY = re.compile(r"^gw_dk_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$")


async def test_create_prints_a_key_that_works_and_rotates(tmp_path: Path) -> None:
    async with throwaway_database(tmp_path) as url:
        env = {
            "GATEWAY_DATABASE_URL": url,
            "GATEWAY_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
            "GATEWAY_DATA_DIR": str(tmp_path),
        }
        assert gateway("migrate", env=env).returncode == 0
        args = ["--name", "Synthetic Apps Ltd", "--email", "Dev@Synthetic-Apps.example.org", "--json"]
        created = gateway("developer", "create", *args, env=env)
        assert created.returncode == 0, created.stderr
        assert created.stdout.count("\n") == 1  # one JSON object on one line
        printed = json.loads(created.stdout)
        assert set(printed) == {"id", "name", "email", "prefix", "key"}
        assert printed["name"] == "Synthetic Apps Ltd"
        assert printed["email"] == "dev@synthetic-apps.example.org"
        assert KEY.fullmatch(printed["key"])
        assert printed["key"].startswith(f"gw_dk_{printed['prefix']}_")

        human = gateway(
            "developer", "create", "--name", "Other Apps", "--email", "dev@other.example.org", env=env
        )
        assert human.returncode == 0, human.stderr
        assert "shown once" in human.stdout
        assert any(KEY.fullmatch(line) for line in human.stdout.splitlines())

        duplicate = gateway(
            "developer", "create", "--name", "Again", "--email", "dev@synthetic-apps.example.org", env=env
        )
        assert duplicate.returncode == 1
        assert duplicate.stderr == "gateway: A developer with this email already exists.\n"
        bad = gateway("developer", "create", "--name", "Bad", "--email", "not-an-address", env=env)
        assert bad.returncode == 1
        assert bad.stderr.startswith("gateway: Give a valid email address")
        assert "Traceback" not in bad.stderr

        with gateway_server({**env, "GATEWAY_LOG_LEVEL": "WARNING"}) as server:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
                old = {"authorization": f"Bearer {printed['key']}"}
                me = await http.get("/developer/v1/me", headers=old)
                assert me.status_code == 200, me.text
                assert me.json() == {
                    "id": printed["id"],
                    "name": "Synthetic Apps Ltd",
                    "email": "dev@synthetic-apps.example.org",
                    "key_prefix": printed["prefix"],
                }
                rotated = await http.post("/developer/v1/keys/rotate", headers=old)
                assert rotated.status_code == 201, rotated.text
                new = {"authorization": f"Bearer {rotated.json()['key']}"}
                assert (await http.get("/developer/v1/me", headers=old)).status_code == 401
                assert (await http.get("/developer/v1/me", headers=new)).json()["id"] == printed["id"]
