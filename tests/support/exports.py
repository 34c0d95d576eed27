"""Opening an export's zip as a school would, and holding it against the database, read independently."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
import zipfile
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.access_log.models import DataAccess
from gateway.audit.checkpoints import checkpoint_kid
from gateway.audit.export_file import check_export
from gateway.consent.models import ConsentReceipt, Grant
from gateway.db.base import utcnow
from gateway.keys.keyring import Keyring
from gateway.keys.signing import verification_keys
from gateway.mis.reading import live_records
from gateway.mis.records import RECORD_MODELS


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def check_zip(
    data: bytes, session: AsyncSession, keyring: Keyring, school_id: uuid.UUID
) -> dict[str, Any]:
    """Every manifest checksum verifies, every file is listed, and the contents equal the database's:
    the manifest."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    manifest = json.loads(archive.read("manifest.json"))
    listed = [entry["path"] for entry in manifest["files"]]
    assert sorted([*listed, "manifest.json"]) == sorted(archive.namelist())
    for entry in manifest["files"]:
        content = archive.read(entry["path"])
        assert sha256(content) == entry["sha256"], entry["path"]
        assert len(content) == entry["size"], entry["path"]
    assert manifest["school"]["id"] == str(school_id)

    for resource in RECORD_MODELS:
        stored = await live_records(session, keyring, school_id, resource)
        lines = archive.read(f"records/{resource}.jsonl").splitlines()
        assert [json.loads(line) for line in lines] == stored, resource
        assert manifest["counts"]["records"][resource] == len(stored)
        table = list(csv.reader(io.StringIO(archive.read(f"records/{resource}.csv").decode())))
        header, rows = table[0], table[1:]
        assert len(rows) == len(stored), resource
        assert set(header) == {name for record in stored for name in record}
        order = list(RECORD_MODELS[resource].model_fields)
        assert header == sorted(header, key=order.index)
        for row, record in zip(rows, stored, strict=True):
            assert row[header.index("id")] == record["id"]

    grants = [json.loads(line) for line in archive.read("grants.jsonl").splitlines()]
    stored_grants = list(
        await session.scalars(
            select(Grant).where(Grant.school_id == school_id).order_by(Grant.created_at, Grant.id)
        )
    )
    assert [grant["id"] for grant in grants] == [str(grant.id) for grant in stored_grants]
    assert [grant["scopes"] for grant in grants] == [sorted(grant.scope_set) for grant in stored_grants]
    receipts = [json.loads(line) for line in archive.read("receipts.jsonl").splitlines()]
    stored_receipts = list(
        await session.scalars(select(ConsentReceipt.jws).where(ConsentReceipt.school_id == school_id))
    )
    assert sorted(receipt["jws"] for receipt in receipts) == sorted(stored_receipts)
    accesses = [json.loads(line) for line in archive.read("access-log.jsonl").splitlines()]
    stored_accesses = list(
        await session.scalars(
            select(DataAccess.id).where(DataAccess.school_id == school_id).order_by(DataAccess.id)
        )
    )
    assert [access["id"] for access in accesses] == stored_accesses

    log = archive.read("audit-log.jsonl").splitlines(keepends=True)
    kid = checkpoint_kid(json.loads(log[-1])["checkpoint"])
    keys = await verification_keys(session, now=utcnow(), kid=kid)
    report = check_export(log, keys)
    assert report.ok, report.fault
    assert report.school_id in (None, school_id)
    assert manifest["counts"]["audit_events"] == report.events_checked
    return dict(manifest)
