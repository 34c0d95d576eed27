"""`gateway receipts verify FILE [--jwks FILE] [--json]`: one consent receipt checked offline."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import httpx
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.cli import main
from gateway.consent import grants
from gateway.consent.models import ConsentReceipt
from gateway.consent.receipt_tokens import sign_receipt
from gateway.db.base import utcnow
from gateway.db.engine import create_engine
from gateway.keys.signing import ensure_signing_key, private_key
from gateway.settings import Settings
from tests.support.cli import gateway
from tests.support.databases import throwaway_database
from tests.support.grants import Connected


async def _receipt_and_jwks(
    session: AsyncSession, connected: Connected, client: httpx.AsyncClient, tmp_path: Path
) -> tuple[str, Path]:
    await grants.revoke_grant(session, connected.grant, actor="operator", now=utcnow())
    await session.commit()
    row = await session.scalar(select(ConsentReceipt).where(ConsentReceipt.grant_id == connected.grant.id))
    assert row is not None
    jwks = tmp_path / "jwks.json"
    jwks.write_bytes((await client.get("/.well-known/jwks.json")).content)
    return row.jws, jwks


async def test_a_receipt_verifies_and_says_what_it_proves(
    session: AsyncSession, connected: Connected, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    token, jwks = await _receipt_and_jwks(session, connected, client, tmp_path)
    path = tmp_path / "receipt.jws"
    path.write_text(token + "\n")
    runner = CliRunner()
    result = runner.invoke(main, ["receipts", "verify", str(path), "--jwks", str(jwks)])
    assert result.exit_code == 0, result.output
    school = connected.party.school
    assert f"receipt {path}: ok, signed by" in result.output
    assert "revoked at " in result.output
    assert f"school {school.name} (URN {school.urn}" in result.output
    assert "scopes: none (the grant has ended)" in result.output
    as_json = runner.invoke(main, ["receipts", "verify", str(path), "--jwks", str(jwks), "--json"])
    document = json.loads(as_json.output)
    assert document["ok"] is True
    assert document["claims"]["decision"] == "revoked"
    assert document["claims"]["grant_id"] == str(connected.grant.id)


async def test_any_changed_byte_fails_naming_why(
    session: AsyncSession, connected: Connected, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    token, jwks = await _receipt_and_jwks(session, connected, client, tmp_path)
    path = tmp_path / "receipt.jws"
    runner = CliRunner()
    data = token.encode()
    for position in [*range(0, len(data), 5), len(data) - 1]:
        altered = bytearray(data)
        altered[position] = ord("A") if data[position] != ord("A") else ord("B")
        path.write_bytes(bytes(altered))
        result = runner.invoke(main, ["receipts", "verify", str(path), "--jwks", str(jwks), "--json"])
        assert result.exit_code == 1, position
        assert json.loads(result.output.splitlines()[0])["ok"] is False
    for altered_bytes in (
        data + b" ",
        b" " + data,
        data + b"\n\n",
        data[:-1],
        data.replace(b".", b"\xff", 1),
    ):
        path.write_bytes(altered_bytes)
        result = runner.invoke(main, ["receipts", "verify", str(path), "--jwks", str(jwks)])
        assert result.exit_code == 1
        assert "is not valid" in result.output


async def test_unknown_key_and_wrong_type_are_named(
    session: AsyncSession, connected: Connected, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    token, jwks = await _receipt_and_jwks(session, connected, client, tmp_path)
    path = tmp_path / "receipt.jws"
    path.write_text(token)
    empty = tmp_path / "empty.json"
    empty.write_text('{"keys": []}')
    runner = CliRunner()
    unknown = runner.invoke(main, ["receipts", "verify", str(path), "--jwks", str(empty), "--json"])
    assert unknown.exit_code == 1
    assert json.loads(unknown.output.splitlines()[0])["reason"] == "unknown_key"
    assert "no key of the JWKS has its `kid`" in unknown.output
    header = base64.urlsafe_b64encode(
        json.dumps({"alg": "ES256", "typ": "at+jwt", "kid": "k"}).encode()
    ).rstrip(b"=")
    path.write_text(header.decode() + token[token.index(".") :])
    wrong = runner.invoke(main, ["receipts", "verify", str(path), "--jwks", str(jwks)])
    assert wrong.exit_code == 1
    assert "is not consent-receipt+jwt" in wrong.output
    not_jwks = tmp_path / "not.json"
    not_jwks.write_text("[]")
    bad = runner.invoke(main, ["receipts", "verify", str(path), "--jwks", str(not_jwks)])
    assert bad.exit_code == 1
    assert "is not a JWKS" in bad.output


async def test_on_the_host_it_uses_the_gateways_own_keys(tmp_path: Path, settings: Settings) -> None:
    async with throwaway_database(tmp_path) as url:
        master = os.urandom(32)
        env = {
            "GATEWAY_DATABASE_URL": url,
            "GATEWAY_MASTER_KEY": base64.b64encode(master).decode(),
            "GATEWAY_DATA_DIR": str(tmp_path),
        }
        assert gateway("migrate", env=env).returncode == 0
        engine = create_engine(settings.model_copy(update={"database_url": url}))
        try:
            async with async_sessionmaker(engine)() as session, session.begin():
                key = private_key(master, await ensure_signing_key(session, master))
        finally:
            await engine.dispose()
        claims = {"iss": "https://gw.example", "jti": "r", "iat": 1, "grant_id": "g", "seq": 1}
        claims |= {"decision": "approved", "school": {}, "app": {}, "prev_hash": None}
        path = tmp_path / "receipt.jws"
        path.write_text(sign_receipt(key, claims))
        ok = gateway("receipts", "verify", str(path), "--json", env=env)
        assert ok.returncode == 0, ok.stderr
        assert json.loads(ok.stdout)["kid"] == key.kid
        signed = sign_receipt(key, claims | {"seq": 2})
        path.write_text(signed[:-2] + ("A" if signed[-2] != "A" else "B") + signed[-1])
        broken = gateway("receipts", "verify", str(path), env=env)
        assert broken.returncode == 1
        assert "is not valid" in broken.stderr
