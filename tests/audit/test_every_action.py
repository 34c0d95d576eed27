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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.accounts import service as accounts
from gateway.audit import events
from gateway.audit.events import EventType
from gateway.audit.models import AuditEvent
from gateway.cli import main
from gateway.consent.models import Grant
from gateway.db.base import utcnow
from gateway.db.engine import create_engine
from gateway.email.models import OutboxMessage
from gateway.settings import Settings
from gateway.support import requests as support_requests
from tests.support import http
from tests.support.accounts import make_account
from tests.support.audit import events_of
from tests.support.cli import gateway
from tests.support.consent_flow import Party
from tests.support.databases import throwaway_database
from tests.support.grants import connect, mint

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
    "backup create": (EventType.BACKUP_CREATED,),
    "school delete": (EventType.DELETION_REQUESTED, EventType.DELETION_CANCELLED),  # asked, then --cancel
    "school export": (EventType.EXPORT,),
    "connector delete": (EventType.CONNECTOR_DELETED,),
    "incident notify": (EventType.INCIDENT_NOTIFIED,),
    "support request": (EventType.SUPPORT_REQUESTED,),
    "support read": (EventType.SUPPORT_READ,),
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
    "receipts verify": "reads one receipt file and the public keys; writes nothing",
    "backup restore": "puts a backup back unaltered into an empty database (an event would alter it); the "
    "backup's own `backup.created` is in every chain it restores",
    "retention plan": "reads",
    "incident open": "the operator's own record of an incident; a school hears of it by `incident notify`",
    "incident status": "reads",
    "incident close": "closes the operator's record; each school's `incident.notified` stays in its chain",
    "support list": "reads",
    "retention run": "each purge it makes is a `data.purged` event in the school's chain, and each warning a "
    "`retention.warned` (tests/erasure/test_cli.py); nothing is due in this walk",
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


async def school_approves(url: str, school_id: str, request_id: str) -> None:
    """What an admin with a second factor does on the dashboard: allow the support request."""
    engine = create_engine(Settings(database_url=url))
    try:
        async with async_sessionmaker(engine)() as session, session.begin():
            await support_requests.approve(
                session,
                uuid.UUID(school_id),
                uuid.UUID(request_id),
                actor="admin:00000000-0000-0000-0000-000000000001",
                with_second_factor=True,
                now=utcnow(),
            )
    finally:
        await engine.dispose()


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

        backup = tmp_path / "walk.backup"
        made = json.loads(
            run(
                "backup",
                "create",
                "--output",
                str(backup),
                "--json",
                extra={"GATEWAY_MASTER_KEY": new_master},
            )
        )
        assert await new_events("backup create") == [
            ("backup.created", "operator", {"kind": made["kind"], "sha256": made["sha256"]})
        ]

        support = json.loads(
            run(
                "support",
                "request",
                "--school",
                school,
                "--reason",
                "The walk",
                "--resources",
                "students",
                "--hours",
                "1",
                "--by",
                "walker",
                "--json",
            )
        )
        assert await new_events("support request") == [
            (
                "support.requested",
                "operator",
                {"request_id": support["id"], "purpose": "read", "resources": ["students"], "hours": 1},
            )
        ]
        await school_approves(url, school, support["id"])
        assert [kind for kind, _actor, _details in await new_events("(the school's admin approves)")] == [
            "support.approved"
        ]
        run(
            "support", "read", "--request", support["id"], "--resource", "students",
            extra={"GATEWAY_MASTER_KEY": new_master},
        )  # fmt: skip
        assert await new_events("support read") == [
            (
                "support.read",
                "operator",
                {"request_id": support["id"], "resource": "students", "record_ids": [], "fields": []},
            )
        ]

        detected = datetime.now(UTC)
        start = detected - timedelta(hours=1)
        window = ["--detected-at", detected.isoformat(), "--from", start.isoformat()]
        walk = ["--summary", "The walk", *window, "--school", school, "--by", "walker", "--json"]
        incident = json.loads(run("incident", "open", *walk))
        [notice] = json.loads(run("incident", "notify", "--incident", incident["id"], "--json"))["notices"]
        assert await new_events("incident notify") == [
            (
                "incident.notified",
                "operator",
                {"incident_id": incident["id"], "admins": notice["admins"], "dpo_contact": False},
            )
        ]

        for_export = json.loads(
            run(
                "support",
                "request",
                "--school",
                school,
                "--reason",
                "The walk",
                "--purpose",
                "export",
                "--hours",
                "1",
                "--by",
                "walker",
                "--json",
            )
        )
        await school_approves(url, school, for_export["id"])
        assert [kind for kind, _actor, _details in await new_events("(asked and allowed for an export)")] == [
            "support.requested",
            "support.approved",
        ]
        exported = json.loads(
            run(
                "school",
                "export",
                "--school",
                school,
                "--output",
                str(tmp_path / "walk.zip"),
                "--request",
                for_export["id"],
                "--json",
                extra={"GATEWAY_MASTER_KEY": new_master},
            )
        )
        assert await new_events("school export") == [
            (
                "data.exported",
                "operator",
                {
                    "export_id": exported["export_id"],
                    "size": exported["size"],
                    "sha256": exported["sha256"],
                    **exported["counts"],
                    "request_id": for_export["id"],
                },
            )
        ]

        asked = json.loads(run("school", "delete", "--school", school, "--json"))
        run("school", "delete", "--school", school, "--cancel")
        assert await new_events("school delete") == [
            (
                "deletion.requested",
                "operator",
                {"deletion_id": asked["deletion_id"], "due_on": asked["due_on"]},
            ),
            ("deletion.cancelled", "operator", {"deletion_id": asked["deletion_id"]}),
        ]
        deleted = json.loads(run("connector", "delete", "--school", school, "--json"))
        assert await new_events("connector delete") == [
            (
                "connector.deleted",
                "operator",
                {"deletion_id": deleted["deletion_id"], "due_on": deleted["due_on"], "keys_revoked": 0},
            )
        ]

        for command, kinds in CLI_RECORDED.items():
            assert [kind for kind, _actor, _details in seen[command]] == [kind.value for kind in kinds], (
                command
            )
        # The gateway's keys touch every school: the other school's chain records both rotations too.
        assert [(kind, details.get("key")) for kind, _actor, details in await chain(url, other["id"])] == [
            ("school.created", None),
            ("keys.rotated", "signing"),
            ("keys.rotated", "master"),
            ("backup.created", None),
        ]
        run("audit", "verify", extra={"GATEWAY_MASTER_KEY": new_master})


# --- the HTTP writes ------------------------------------------------------------------------------------

HTTP_RECORDED: dict[str, tuple[EventType, ...]] = {
    "POST /manage/v1/api-keys": (EventType.API_KEY_CREATED,),  # tests/manage
    "DELETE /manage/v1/api-keys/{prefix}": (EventType.API_KEY_REVOKED,),
    "POST /manage/v1/grants/{grant_id}/narrow": (EventType.GRANT_NARROWED,),  # tests/manage (grants)
    "POST /manage/v1/grants/{grant_id}/revoke": (EventType.GRANT_REVOKED,),
    "DELETE /developer/v1/apps/{client_id}": (EventType.GRANT_REVOKED, EventType.APP_DELETED),  # below
    "DELETE /manage/v1/connector": (EventType.CONNECTOR_KEY_REVOKED, EventType.CONNECTOR_DELETED),  # erasure
    "POST /manage/v1/support-requests/{request_id}/approve": (EventType.SUPPORT_APPROVED,),  # support_access
    "POST /manage/v1/support-requests/{request_id}/decline": (EventType.SUPPORT_DECLINED,),
    "POST /manage/v1/support-requests/{request_id}/shorten": (EventType.SUPPORT_SHORTENED,),
    "POST /manage/v1/support-requests/{request_id}/withdraw": (EventType.SUPPORT_WITHDRAWN,),
    "POST /manage/v1/exports": (EventType.EXPORT,),  # when it is ready (tests/exports)
}
HTTP_EXEMPT: dict[str, str] = {
    "POST /developer/v1/apps": "registers an app: it reaches no school until an admin approves it",
    "PATCH /developer/v1/apps/{client_id}": "edits the app's own registration; its grants and scopes stay",
    "POST /developer/v1/apps/{client_id}/secret": "the app's own credential; no grant or school data changes",
    "POST /developer/v1/apps/{client_id}/webhook-secret": "the app's own webhook signing secret; no grant or "
    "school data changes",
    "POST /developer/v1/apps/{client_id}/ping": "a test message to the app's own endpoint; names no school",
    "POST /developer/v1/apps/{client_id}/webhook-deliveries/{message_id}/redeliver": "sends the app again "
    "what it was told; no grant or school data changes",
    "POST /developer/v1/keys/rotate": "the developer's own key; it reads and edits only their apps",
    "POST /connector/v1/{resource}/batch": "the school's own MIS copying its records in, under the school's "
    "connector key; each sync run is kept with its counts (GET /connector/v1/status), not an access change",
    "POST /connector/v1/syncs": "starts the school's own MIS sync (see the batch exemption)",
    "POST /connector/v1/syncs/{sync_id}/complete": "ends the school's own MIS sync (see the batch exemption)",
}
WRITE_METHODS = ("post", "put", "patch", "delete")
WALKED = ("/manage/", "/developer/", "/connector/")


def test_every_write_operation_is_recorded_or_exempt(app: FastAPI) -> None:
    writes = {
        f"{method.upper()} {path}"
        for path, operations in app.openapi()["paths"].items()
        if path.startswith(WALKED)
        for method in operations
        if method in WRITE_METHODS
    }
    undecided = sorted(writes - set(HTTP_RECORDED) - set(HTTP_EXEMPT))
    assert not undecided, f"record an event for these operations, or exempt them with a reason: {undecided}"
    assert not set(HTTP_RECORDED) & set(HTTP_EXEMPT)
    assert sorted(set(HTTP_RECORDED) | set(HTTP_EXEMPT)) == sorted(writes), "a listed operation is gone"


async def test_deleting_an_app_revokes_its_grants_with_events_and_its_tokens_die(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, party: Party
) -> None:
    connected = await connect(session, party)
    token = await mint(session, settings, connected)
    assert (await client.get("/api/v1/students", headers=http.bearer(token))).status_code == 200
    developer = party.developer
    deleted = await client.delete(
        f"/developer/v1/apps/{party.app.client_id}", headers=http.bearer(developer.key)
    )
    assert deleted.status_code == 204, deleted.text
    assert (await client.get("/api/v1/students", headers=http.bearer(token))).status_code == 401
    assert await session.scalar(select(Grant).where(Grant.id == connected.grant.id)) is None
    actor = events.developer(developer.developer.id)
    revoked = await events_of(session, party.school.id, "grant.revoked")
    assert revoked[-1] == (
        actor,
        {"grant_id": str(connected.grant.id), "app_id": str(party.app.id), "reason": "app_deleted"},
    )
    assert await events_of(session, party.school.id, "app.deleted") == [
        (
            actor,
            {
                "app_id": str(party.app.id),
                "client_id": party.app.client_id,
                "revoked_grant_ids": [str(connected.grant.id)],
            },
        )
    ]


async def test_adding_an_admin_tells_the_schools_active_admins(session: AsyncSession) -> None:
    first = await make_account(session, "head@added.example.org")
    second = await make_account(session, "deputy@added.example.org", school=first.school)
    before = set(await session.scalars(select(OutboxMessage.id)))
    added, link = await accounts.add_admin(
        session, first.school, "new@added.example.org", issuer="https://gw.example.org", actor=events.OPERATOR
    )
    mails = [
        row
        for row in await session.scalars(select(OutboxMessage).order_by(OutboxMessage.to_address))
        if row.id not in before
    ]
    assert [mail.to_address for mail in mails] == [second.email, first.email]
    for mail in mails:
        assert mail.subject == f"A new admin was added to {first.school.name}"
        assert "new@added.example.org" in mail.body_text
        assert "by the gateway's operator" in mail.body_text
        assert " UTC " in mail.body_text
        assert link not in mail.body_text
        assert link.rsplit("/", 1)[-1] not in mail.body_text
    assert (await events_of(session, first.school.id, "admin.added"))[-1] == (
        "operator",
        {"admin_id": str(added.id)},
    )


async def test_the_first_admin_of_a_school_tells_nobody(session: AsyncSession) -> None:
    first = await make_account(session, "head@alone.example.org")
    await session.delete(first.admin)
    await session.flush()
    before = await session.scalar(select(func.count()).select_from(OutboxMessage))
    await accounts.add_admin(
        session, first.school, "new@alone.example.org", issuer="https://gw.example.org", actor=events.OPERATOR
    )
    assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == before
