"""Every action that touches a school's data or access is an event in its chain (SPEC §4; issue 13, item 2).

The walks read what exists, not a list kept by hand: every leaf of the `gateway` click tree and every write
operation of the OpenAPI document under /manage, /developer and /connector must be in `RECORDED` (the event
types it must leave) or in `EXEMPT` (why it touches no school's data or access), so a new command or endpoint
fails here until someone decides. The operator commands are then run, as an operator runs them, against a
throwaway database and each one's events are looked for in the school's chain.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from gateway.audit.events import EventType
from gateway.audit.models import AuditEvent
from gateway.cli import main
from gateway.db.engine import create_engine
from gateway.settings import Settings
from tests.support.cli import gateway
from tests.support.databases import throwaway_database

# --- the operator's commands ---------------------------------------------------------------------------

CLI_RECORDED: dict[str, tuple[EventType, ...]] = {
    "school create": (EventType.SCHOOL_CREATED, EventType.ADMIN_ADDED),  # admin.added with --admin-email
    "school require-totp": (EventType.SCHOOL_SETTINGS_CHANGED,),
    "admin add": (EventType.ADMIN_ADDED,),
    "admin disable": (EventType.ADMIN_DISABLED,),
    "connector create-key": (EventType.CONNECTOR_KEY_CREATED,),
    "connector revoke-key": (EventType.CONNECTOR_KEY_REVOKED,),
    "keys rotate-signing": (EventType.KEY_ROTATION,),
    "keys rotate-master": (EventType.KEY_ROTATION,),
}
CLI_EXEMPT: dict[str, str] = {
    "serve": "runs the server; what it serves is recorded where it happens",
    "migrate": "changes the schema, not any school's data or access",
    "openapi": "writes the API document",
    "demo": "a development sandbox of synthetic schools (its schools' creation is recorded, actor system)",
    "admin list": "reads",
    "connector list-keys": "reads",
    "developer create": "a developer account belongs to no school; its apps reach a school only by consent",
    "tokens purge": "deletes expired tokens and requests, already dead: no access changes",
}
AUDIT_COMMANDS_EXEMPT = "the `audit` commands verify and checkpoint the log itself (`gateway.cli.audit`)"


def leaf_commands(group: click.Group, prefix: str = "") -> list[str]:
    found = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix}{name}"
        found += leaf_commands(command, f"{path} ") if isinstance(command, click.Group) else [path]
    return found


def test_every_operator_command_is_recorded_or_exempt() -> None:
    commands = [name for name in leaf_commands(main) if not name.startswith("audit ")]
    undecided = sorted(set(commands) - set(CLI_RECORDED) - set(CLI_EXEMPT))
    assert not undecided, f"record an event for these commands, or exempt them with a reason: {undecided}"
    assert not set(CLI_RECORDED) & set(CLI_EXEMPT)
    assert sorted(set(CLI_RECORDED) | set(CLI_EXEMPT)) == sorted(commands), (
        "a listed command no longer exists"
    )
    assert AUDIT_COMMANDS_EXEMPT


async def chain(url: str, school_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    engine = create_engine(Settings(database_url=url))
    try:
        async with async_sessionmaker(engine)() as session:
            rows = await session.execute(
                select(AuditEvent.event_type, AuditEvent.actor, AuditEvent.details)
                .where(AuditEvent.school_id == uuid.UUID(school_id))
                .order_by(AuditEvent.seq)
            )
            return [(kind, actor, json.loads(details)) for kind, actor, details in rows]
    finally:
        await engine.dispose()


async def test_each_operator_command_leaves_its_event(tmp_path: Path) -> None:
    async with throwaway_database(tmp_path) as url:
        env = {
            "GATEWAY_DATABASE_URL": url,
            "GATEWAY_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
            "GATEWAY_DATA_DIR": str(tmp_path),
        }

        def run(*args: str, extra: dict[str, str] | None = None) -> str:
            result = gateway(*args, env={**env, **(extra or {})})
            assert result.returncode == 0, (args, result.stderr)
            return result.stdout

        run("migrate")
        seen: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
        school_args = ["--name", "Walk Academy", "--la-code", "201", "--establishment-number", "4001"]
        created = json.loads(
            run(
                "school",
                "create",
                "--urn",
                "870001",
                *school_args,
                "--admin-email",
                "a@walk.example.org",
                "--json",
            )
        )
        other = json.loads(run("school", "create", "--urn", "870002", *school_args, "--json"))
        school = created["id"]

        async def new_events(command: str) -> list[tuple[str, str, dict[str, Any]]]:
            events_now = await chain(url, school)
            before = sum(len(batch) for batch in seen.values())
            seen[command] = events_now[before:]
            return seen[command]

        assert await new_events("school create") == [
            ("school.created", "operator", {"urn": "870001"}),
            ("admin.added", "operator", {"admin_id": created["admin_id"]}),
        ]
        run("school", "require-totp", "--school", school)
        assert await new_events("school require-totp") == [
            ("school.settings_changed", "operator", {"require_totp": True})
        ]
        added = json.loads(run("admin", "add", "--school", school, "--email", "b@walk.example.org", "--json"))
        assert await new_events("admin add") == [("admin.added", "operator", {"admin_id": added["id"]})]
        run("admin", "disable", "b@walk.example.org")
        assert await new_events("admin disable") == [
            ("admin.disabled", "operator", {"admin_id": added["id"]})
        ]
        key = json.loads(run("connector", "create-key", "--school", school, "--json"))
        assert await new_events("connector create-key") == [
            ("connector_key.created", "operator", {"prefix": key["prefix"]})
        ]
        run("connector", "revoke-key", key["prefix"])
        assert await new_events("connector revoke-key") == [
            ("connector_key.revoked", "operator", {"prefix": key["prefix"]})
        ]
        rotated = json.loads(run("keys", "rotate-signing", "--json"))
        assert await new_events("keys rotate-signing") == [
            ("keys.rotated", "operator", {"key": "signing", "kid": rotated["kid"]})
        ]
        new_master = base64.b64encode(os.urandom(32)).decode()
        run("keys", "rotate-master", extra={"GATEWAY_NEW_MASTER_KEY": new_master})
        [(kind, actor, details)] = await new_events("keys rotate-master")
        assert (kind, actor, details["key"]) == ("keys.rotated", "operator", "master")
        assert details["master_key_id"] not in new_master

        for command, kinds in CLI_RECORDED.items():
            assert [kind for kind, _actor, _details in seen[command]] == [kind.value for kind in kinds], (
                command
            )
        # The gateway's keys touch every school: the other school's chain records both rotations too.
        assert [(kind, details.get("key")) for kind, _actor, details in await chain(url, other["id"])] == [
            ("school.created", None),
            ("keys.rotated", "signing"),
            ("keys.rotated", "master"),
        ]
        run("audit", "verify", extra={"GATEWAY_MASTER_KEY": new_master})
