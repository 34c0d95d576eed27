"""The export of a school's authorisation log and its offline check (`gateway audit verify --file`)."""

from __future__ import annotations

import base64
import json
import os
import uuid
from pathlib import Path
from typing import Any

import httpx
from joserfc.jwk import ECKey
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.chain import event_hash
from gateway.audit.checkpoints import sign_checkpoint
from gateway.audit.events import EventType, admin
from gateway.audit.export_file import check_export
from gateway.audit.service import record_event
from gateway.db.base import utcnow
from gateway.keys.keyring import Keyring
from tests.support.accounts import Account, make_account
from tests.support.cli import gateway
from tests.support.http import bearer
from tests.support.school_keys import issue_key

URL = "/manage/v1/audit-log/export"


async def export_of(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring, owner: Account
) -> tuple[list[bytes], dict[str, Any]]:
    token = await issue_key(session, keyring, owner)
    for _ in range(3):
        await record_event(
            session,
            school_id=owner.school.id,
            event_type=EventType.ADMIN_LOGIN,
            actor=admin(owner.admin.id),
        )
    await session.commit()
    response = await client.get(URL, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/jsonl")
    jwks = (await client.get("/.well-known/jwks.json")).json()
    return response.content.splitlines(keepends=True), jwks


def keys_of(jwks: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {key["kid"]: key for key in jwks["keys"]}


def fault(lines: list[bytes], jwks: dict[str, Any]) -> str:
    report = check_export(lines, keys_of(jwks))
    assert not report.ok
    return str(report.fault)


async def test_an_export_verifies_offline_and_any_change_is_named(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring, tmp_path: Path
) -> None:
    owner = await make_account(session, "head@export-audit.example.org")
    other = await make_account(session, "head@export-other.example.org")
    await issue_key(session, keyring, other)
    lines, jwks = await export_of(client, session, keyring, owner)

    # key created, three sign-ins, the export itself: inside the range the checkpoint covers.
    events = [json.loads(line) for line in lines[:-1]]
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5]
    assert events[-1]["event_type"] == "audit.exported"
    assert {e["school_id"] for e in events} == {str(owner.school.id)}
    report = check_export(lines, keys_of(jwks))
    assert report.ok, report.fault
    assert report.checkpoint is not None
    assert (report.checkpoint.seq, report.checkpoint.hash) == (5, events[-1]["hash"])
    assert report.checkpoint.school_id == owner.school.id

    altered = events[2] | {"actor": "operator"}
    changed = [*lines[:2], json.dumps(altered).encode() + b"\n", *lines[3:]]
    assert fault(changed, jwks) == "line 3, seq 3: hash mismatch"
    assert fault([*lines[:1], *lines[2:]], jwks) == "line 2, seq 3: sequence gap"
    assert fault([lines[0], lines[2], lines[1], *lines[3:]], jwks) == "line 2, seq 3: sequence gap"
    assert fault([*lines[:4], lines[5]], jwks).startswith(
        "line 5, seq 5: the checkpoint names seq 5 but the events end at seq 4"
    )
    assert fault([*lines, lines[0]], jwks) == "line 7: a line after the checkpoint (line 6)"
    assert fault(lines[:-1], jwks) == "no checkpoint line: the export is incomplete or cut short"
    assert fault([b"not json\n", *lines[1:]], jwks) == "line 1: not a JSON line"

    # An event appended before the checkpoint, with a correct hash: past the checkpoint's seq.
    extra = {
        "id": str(uuid.uuid4()),
        "school_id": events[0]["school_id"],
        "seq": 6,
        "event_type": "admin.login",
        "actor": "operator",
        "occurred_at": events[0]["occurred_at"],
        "details": "{}",
    }
    extra |= {"prev_hash": events[-1]["hash"], "hash": event_hash(events[-1]["hash"], extra)}
    appended = [*lines[:-1], json.dumps(extra).encode() + b"\n", lines[-1]]
    assert fault(appended, jwks).startswith("line 6, seq 6: an event past the checkpoint's last seq 5")

    # A checkpoint signed by another key, or naming a kid the JWKS does not hold, fails.
    stranger = ECKey.generate_key("P-256", private=True)
    kid = jwks["keys"][0]["kid"]
    forged_key = ECKey.import_key({**stranger.as_dict(private=True), "kid": kid})
    forged = sign_checkpoint(
        forged_key,
        issuer="http://127.0.0.1:8000",
        school_id=owner.school.id,
        seq=5,
        head_hash=events[-1]["hash"],
        signed_at=utcnow(),
    )
    with_forged = [*lines[:-1], json.dumps({"checkpoint": forged}).encode() + b"\n"]
    assert (
        fault(with_forged, jwks)
        == f"line 6: the checkpoint is not valid: its signature does not verify with key {kid}"
    )
    unknown = {"keys": [{**key, "kid": "not-" + key["kid"]} for key in jwks["keys"]]}
    assert "not among the gateway's keys" in fault(lines, unknown)

    # The command line, offline, with the JWKS saved beside the export.
    export, saved = tmp_path / "export.jsonl", tmp_path / "jwks.json"
    export.write_bytes(b"".join(lines))
    saved.write_text(json.dumps(jwks))
    env = {
        "GATEWAY_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
        "GATEWAY_DATA_DIR": str(tmp_path),
    }
    ok = gateway("audit", "verify", "--file", str(export), "--jwks", str(saved), "--json", env=env)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["ok"] is True
    assert json.loads(ok.stdout)["checkpoint"]["seq"] == 5
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_bytes(b"".join(changed))
    broken = gateway("audit", "verify", "--file", str(tampered), "--jwks", str(saved), env=env)
    assert broken.returncode == 1
    assert broken.stderr == f"gateway: the export {tampered} is broken: line 3, seq 3: hash mismatch\n"
    assert "Traceback" not in broken.stderr


async def test_the_export_is_the_schools_own_and_takes_no_parameters(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    owner = await make_account(session, "head@export-own.example.org")
    other = await make_account(session, "head@export-theirs.example.org")
    lines, jwks = await export_of(client, session, keyring, owner)
    theirs = await issue_key(session, keyring, other)
    response = await client.get(URL, headers=bearer(theirs))
    assert response.status_code == 200
    their_lines = response.content.splitlines(keepends=True)
    assert {json.loads(line)["school_id"] for line in their_lines[:-1]} == {str(other.school.id)}
    assert not set(their_lines) & set(lines[:-1])
    # Their checkpoint under our events: another school.
    mixed = [*lines[:-1], their_lines[-1]]
    assert fault(mixed, jwks) == f"line {len(lines)}: the checkpoint is of another school"
    assert (
        await client.get(URL + "?school_id=" + str(owner.school.id), headers=bearer(theirs))
    ).status_code == 400
    assert (await client.get(URL)).status_code == 401
