"""`gateway demo --credentials-file`: the SPEC §9 keys, mode 0600, stable client id, working keys."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.cli import gateway
from tests.support.databases import backend
from tests.support.server import gateway_server


def load(path: Path) -> dict[str, object]:
    content: dict[str, object] = json.loads(path.read_text())
    return content


def test_demo_writes_the_credentials_file(tmp_path: Path) -> None:
    if backend() == "postgresql":
        pytest.skip("the demo's default is the embedded SQLite database")
    target = tmp_path / "out" / "creds.json"
    env = {"GATEWAY_DATA_DIR": str(tmp_path)}
    first = gateway(
        "demo",
        "--no-serve",
        "--students",
        "12",
        "--port",
        "8124",
        "--credentials-file",
        str(target),
        env=env,
        cwd=tmp_path,
    )
    assert first.returncode == 0, first.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    creds = load(target)
    assert set(creds) == {"issuer", "school_id", "admin", "developer_key", "app"}
    assert creds["issuer"] == "http://127.0.0.1:8124"
    app = creds["app"]
    assert isinstance(app, dict)
    assert set(app) == {
        "client_id", "client_secret", "redirect_uris", "required_scopes", "optional_scopes", "webhook_url",
        "webhook_secret",
    }  # fmt: skip
    assert app["webhook_url"] == "http://127.0.0.1:8765/webhooks"
    assert str(app["webhook_secret"]).startswith("whsec_")
    assert app["redirect_uris"] == ["http://127.0.0.1:8765/callback"]
    assert app["required_scopes"] == "school groups students.basic"
    assert app["optional_scopes"] == "students.demographics attendance.summaries students.sen"
    assert str(app["client_secret"]).startswith("gw_cs_")
    assert str(creds["developer_key"]).startswith("gw_dk_")
    assert set(creds["admin"]) == {"email", "password"}  # type: ignore[arg-type]
    ready = re.search(r"(http://127\.0\.0\.1:8124/oauth/authorize\?\S+)", first.stdout)
    assert ready, first.stdout
    query = {name: values[0] for name, values in parse_qs(urlsplit(ready.group(1)).query).items()}
    assert query["client_id"] == app["client_id"]
    assert query["redirect_uri"] == "http://127.0.0.1:8765/callback"
    assert query["code_challenge_method"] == "S256"
    assert query["school_id"] == creds["school_id"]
    assert query["scope"] == f"{app['required_scopes']} {app['optional_scopes']}"
    assert re.search(r"code_verifier=[A-Za-z0-9_-]{64}", first.stdout)

    second = gateway(
        "demo", "--no-serve", "--students", "12", "--credentials-file", str(target), env=env, cwd=tmp_path
    )
    assert second.returncode == 0, second.stderr
    again = load(target)
    assert again["app"]["client_id"] == app["client_id"]  # type: ignore[index]
    assert again["app"]["client_secret"] != app["client_secret"]  # type: ignore[index]
    assert again["developer_key"] != creds["developer_key"]
    assert again["school_id"] == creds["school_id"]


async def test_default_credentials_path_and_the_keys_work(tmp_path: Path) -> None:
    if backend() == "postgresql":
        pytest.skip("the demo's default is the embedded SQLite database")
    env = {"GATEWAY_DATA_DIR": str(tmp_path), "GATEWAY_LOG_LEVEL": "WARNING"}
    result = gateway("demo", "--no-serve", "--students", "12", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    creds = load(tmp_path / "demo-credentials.json")
    assert str(tmp_path / "demo-credentials.json") in result.stdout
    with gateway_server(env) as server:
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            apps = await client.get(
                "/developer/v1/apps", headers={"authorization": f"Bearer {creds['developer_key']}"}
            )
    assert apps.status_code == 200, apps.text
    assert [a["client_id"] for a in apps.json()["apps"]] == [creds["app"]["client_id"]]  # type: ignore[index]
