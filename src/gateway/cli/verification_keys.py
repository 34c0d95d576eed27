"""The public keys an offline check verifies with (`audit verify --file`, `receipts verify`): a saved JWKS
file, the gateway's JWKS URL, or every signing key still in the configured database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from gateway.cli.common import CommandFailed, command_settings, run_unbounded
from gateway.db import migrations
from gateway.keys.models import SigningKey


def jwks_from(source: str) -> dict[str, dict[str, Any]]:
    """Public JWKs by kid from a saved JWKS file or its URL."""
    try:
        if source.startswith(("http://", "https://")):
            response = httpx.get(source, timeout=10.0, follow_redirects=False)
            response.raise_for_status()
            document = response.json()
        else:
            document = json.loads(Path(source).read_bytes())
    except (httpx.HTTPError, OSError, ValueError) as exc:
        raise CommandFailed(f"cannot read the JWKS from {source} ({type(exc).__name__})") from None
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        raise CommandFailed(f"{source} is not a JWKS (no `keys` list)")
    return {key["kid"]: key for key in keys if isinstance(key, dict) and isinstance(key.get("kid"), str)}


def database_keys() -> dict[str, dict[str, Any]]:
    """Every signing key still in the configured database, retired ones included (public members only)."""
    settings = command_settings()

    async def work(engine: AsyncEngine) -> dict[str, dict[str, Any]]:
        if not await migrations.is_at_head(engine):
            raise CommandFailed("the database is not migrated: give the gateway's JWKS with --jwks")
        async with async_sessionmaker(engine)() as session:
            rows = (await session.execute(select(SigningKey.kid, SigningKey.public_jwk))).tuples().all()
        return {kid: json.loads(public) for kid, public in rows}

    return run_unbounded(settings, work)
