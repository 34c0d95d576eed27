"""Token endpoint throughput: `client_credentials` tokens/s and introspections/s, each beside `/healthz`.

Run: `.venv/bin/python -m bench.tokens [--seconds 10] [--connections 64] [--workers 2]` from the repository
root. Needs PostgreSQL (GATEWAY_TEST_POSTGRES_URL, default 127.0.0.1:5432 user postgres); installs Debian's
wrk if it is missing. Prepares, directly in a throwaway database, a developer and a confidential app
(`client_secret_basic`), a school with a grant and one school access token; then serves with the given
workers and measures, in one run: `GET /healthz` (the floor), `POST /oauth/token` with
`grant_type=client_credentials`, and `POST /oauth/introspect` of the school token. Every measured response
must be a 200 (the script stops otherwise); the per-client rate limit is raised for the run, not removed.
Beside each rate it prints the CPU time the gateway's processes and the bench database's PostgreSQL
backends spent per request (from /proc): steadier than the rate when other work shares the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import platform
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote_plus, urlencode

from sqlalchemy.engine import make_url

from bench.common import (
    CpuMeter,
    bench_database,
    register_bench_app,
    run_wrk,
    serve,
)
from gateway.consent.models import Grant
from gateway.db.base import utcnow
from gateway.db.engine import create_engine
from gateway.keys.keyring import Keyring
from gateway.keys.signing import ensure_signing_key
from gateway.schools.service import create_school
from gateway.settings import Settings
from gateway.tokens import issuance

RATE_LIMIT_FOR_THE_RUN = "100000000/minute"
FORM = "application/x-www-form-urlencoded"
HEADER = (
    "| measure | requests/s | p50 ms | p99 ms | vs /healthz | gateway CPU µs/request "
    "| PostgreSQL CPU µs/request |"
)


@dataclass(frozen=True)
class Prepared:
    client_id: str
    client_secret: str
    school_token: str

    @property
    def basic(self) -> str:
        raw = f"{quote_plus(self.client_id)}:{quote_plus(self.client_secret)}".encode()
        return "Basic " + base64.b64encode(raw).decode()


async def prepare(database_url: str, master_key: bytes, issuer: str) -> Prepared:
    """A developer, a confidential app, a school that granted it, and a school access token for it."""
    engine = create_engine(Settings(database_url=database_url))
    keyring = Keyring(master_key)
    try:
        from sqlalchemy.ext.asyncio import async_sessionmaker

        async with async_sessionmaker(engine, expire_on_commit=False)() as session, session.begin():
            app, secret = await register_bench_app(
                session,
                keyring,
                name="Bench App",
                description="Measures the token endpoint.",
                required_scopes="school groups students.basic",
                optional_scopes="",
            )
            school = await create_school(
                session,
                urn="990001",
                name="Bench Academy",
                la_code="201",
                establishment_number="4001",
                phase="secondary",
            )
            grant = Grant(school_id=school.id, app_id=app.id, scopes="school groups students.basic")
            session.add(grant)
            await session.flush()
            await ensure_signing_key(session, master_key)
            now = utcnow()
            minted = await issuance.school_access_token(
                session,
                keyring,
                issuer=issuer,
                app=app,
                grant_id=grant.id,
                school_id=school.id,
                family_id=grant.id,
                scopes=grant.scope_set,
                now=now,
            )
            return Prepared(app.client_id, secret, minted.token)
    finally:
        await engine.dispose()


def lua_post(body: str, authorization: str) -> str:
    return (
        'wrk.method = "POST"\n'
        f"wrk.body = {lua_string(body)}\n"
        f'wrk.headers["Content-Type"] = "{FORM}"\n'
        f'wrk.headers["Authorization"] = {lua_string(authorization)}\n'
    )


def lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _script(script: Path | None) -> list[str]:
    return ["-s", str(script)] if script is not None else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    master_key = os.urandom(32)
    master_key_b64 = base64.b64encode(master_key).decode()
    os.environ["GATEWAY_TOKEN_RATE_LIMIT"] = RATE_LIMIT_FOR_THE_RUN  # `serve` passes the environment on

    print(
        f"# Tokens — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {args.workers} workers"
    )
    print(f"wrk: 1 thread, {args.connections} connections, {args.seconds} s per row (after a 2 s warm-up)\n")
    print(HEADER)
    print("|---|---:|---:|---:|---:|---:|---:|")
    with (
        bench_database() as url,
        serve(url, master_key_b64, args.workers) as server,
        tempfile.TemporaryDirectory() as tmp,
    ):
        prepared = asyncio.run(prepare(url, master_key, server.base_url))
        token_script = Path(tmp) / "token.lua"
        token_script.write_text(lua_post(urlencode({"grant_type": "client_credentials"}), prepared.basic))
        introspect_script = Path(tmp) / "introspect.lua"
        introspect_script.write_text(lua_post(urlencode({"token": prepared.school_token}), prepared.basic))
        rows = [
            ("/healthz (floor)", f"{server.base_url}/healthz", None),
            ("client_credentials tokens", f"{server.base_url}/oauth/token", token_script),
            ("introspections (school token)", f"{server.base_url}/oauth/introspect", introspect_script),
        ]
        meter = CpuMeter(server.process.pid, make_url(url).database or "")
        floor = None
        for label, target, script in rows:
            run_wrk(target, seconds=2, connections=args.connections, options=_script(script))
            gateway_before, database_before = meter.read()
            result = run_wrk(
                target, seconds=args.seconds, connections=args.connections, options=_script(script)
            )
            gateway_after, database_after = meter.read()
            requests = result.requests_per_second * args.seconds
            floor = floor or result.requests_per_second
            gateway_cpu = 1e6 * meter.spent(gateway_before, gateway_after) / requests
            database_cpu = 1e6 * meter.spent(database_before, database_after) / requests
            rps, p50, p99 = result.requests_per_second, result.p50_ms, result.p99_ms
            print(
                f"| {label} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {rps / floor:.0%} "
                f"| {gateway_cpu:,.0f} | {database_cpu:,.0f} |"
            )


if __name__ == "__main__":
    main()
