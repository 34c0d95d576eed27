"""The data API proxy: `GET /api/v1/students?limit=100` requests/s and records/s, beside `/healthz`.

Run: `.venv/bin/python -m bench.proxy [--seconds 10] [--connections 64] [--workers 2] [--breakdown]` from
the repository root. Needs PostgreSQL (GATEWAY_TEST_POSTGRES_URL, default 127.0.0.1:5432 user postgres);
installs Debian's wrk if it is missing. Prepares, directly in a throwaway database, the demo's synthetic
school (seed 1, 1,000 pupils, no attendance: only pupils are read), a developer and an app, a grant of
`school groups students.basic students.demographics students.identifiers` and one school access token;
then serves with the given workers and measures, in one run, `/healthz` (the floor) and the listing with
the token: the first page again and again, then a walk through the first ten pages by their cursors, each
connection in turn (so each answer carries different pupils). Every measured response must be a 200 (the
script stops otherwise); the per-token rate limit is raised for the run, not removed. Beside each rate it
prints the CPU time the gateway's processes and the bench database's PostgreSQL backends spent per request
(from /proc): steadier than the rate when other work shares the machine.

`--breakdown` then times, in this process against the same database, each step one listing request
makes (the transaction, JWT verification, the live grant check — which also reads the school's change
number —, the page query, decryption and JSON parsing, projection, the ETag, serialisation, the
access-log insert), so the cost of the live grant check per request is measured, not guessed.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import literal, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import async_sessionmaker

from bench.common import (
    CpuMeter,
    bench_database,
    register_bench_app,
    run_wrk,
    serve,
)
from gateway.consent.models import Grant
from gateway.data_api.projection import Kind
from gateway.data_api.reader import Reader
from gateway.data_api.service import Access, _out, carried_pupils, delivered, log_access, make_etag
from gateway.db.base import utcnow
from gateway.db.engine import create_engine
from gateway.keys.keyring import Keyring
from gateway.keys.signing import ensure_signing_key
from gateway.mis.demo_school import load_demo_school
from gateway.mis.synthetic import generate_school
from gateway.oauth import bearer
from gateway.scopes import format_scopes
from gateway.settings import Settings
from gateway.tokens import issuance

SCOPES = ("school", "groups", "students.basic", "students.demographics", "students.identifiers")
PAGE = 100
PATH = f"/api/v1/students?limit={PAGE}"
RATE_LIMIT_FOR_THE_RUN = "1000000000/5minutes"


@dataclass(frozen=True)
class Prepared:
    token: str
    school_students: int


async def prepare(database_url: str, master_key: bytes, issuer: str, students: int) -> Prepared:
    """The demo school, a developer and app, a grant of SCOPES and a school access token for it."""
    engine = create_engine(Settings(database_url=database_url))
    keyring = Keyring(master_key)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    today = date.today()
    try:
        generated = generate_school(1, students=students, today=today, attendance_days=0)
        loaded = await load_demo_school(sessions, keyring, generated, today=today)
        async with sessions() as session, session.begin():
            app, _secret = await register_bench_app(
                session,
                keyring,
                name="Bench Reader",
                description="Reads pupils through the proxy.",
                required_scopes="school groups students.basic",
                optional_scopes="students.demographics students.identifiers",
            )
            grant = Grant(school_id=loaded.school_id, app_id=app.id, scopes=format_scopes(SCOPES))
            session.add(grant)
            await session.flush()
            await ensure_signing_key(session, master_key)
            minted = await issuance.school_access_token(
                session,
                keyring,
                issuer=issuer,
                app=app,
                grant_id=grant.id,
                school_id=grant.school_id,
                family_id=grant.id,
                scopes=SCOPES,
                now=utcnow(),
            )
        return Prepared(minted.token, loaded.counts.get("students", 0))
    finally:
        await engine.dispose()


# --- In-process breakdown ----------------------------------------------------------------------------


async def _timed(repeat: int, step: Callable[[], Awaitable[Any]]) -> float:
    """Median microseconds of `step` over `repeat` runs (after one warm-up)."""
    await step()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await step()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e6


async def breakdown(database_url: str, master_key: bytes, issuer: str, token: str, repeat: int) -> None:
    """Each step of one listing request, timed alone (median µs), in the order the request runs them.

    Queries are timed inside one open transaction (their marginal cost); the transaction itself (pool
    checkout, BEGIN, COMMIT) is its own row.
    """
    engine = create_engine(Settings(database_url=database_url))
    keyring = Keyring(master_key)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    rows: list[tuple[str, float]] = []

    async def transaction() -> None:
        async with sessions() as fresh:
            await fresh.execute(select(literal(1)))
            await fresh.commit()

    try:
        rows.append(("transaction: pool checkout, BEGIN, COMMIT", await _timed(repeat, transaction)))
        async with sessions() as session:
            now = utcnow()
            claims = await bearer.verified_claims(session, token, issuer=issuer, now=now)

            async def verify() -> Any:
                return await bearer.verified_claims(session, token, issuer=issuer, now=now)

            async def grant_check() -> Any:
                checked = await bearer.live_state(session, claims, now=now)
                session.expunge_all()  # as in a request: nothing already in the identity map
                return checked

            rows.append(
                ("JWT verification (ES256 signature, claims; keys cached)", await _timed(repeat, verify))
            )
            rows.append(
                (
                    "**live grant check** (one query: app ⟕ grant ⟕ school ⟕ token row; then `decide`)",
                    await _timed(repeat, grant_check),
                )
            )
            checked = await bearer.live_state(session, claims, now=now)
            assert isinstance(checked, bearer.SchoolToken)
            access = Access.of(checked, now.date())
            reader = Reader(session, keyring, checked.school_id)
            change_seq = checked.change_seq

            async def page() -> Any:
                return await reader.page(
                    "students",
                    Kind.STUDENTS,
                    access.audience,
                    access.range_start,
                    after=None,
                    limit=PAGE + 1,
                    updated_since=None,
                )

            rows.append((f"page query ({PAGE + 1} sealed rows, audience in SQL)", await _timed(repeat, page)))
            stored = (await page())[:PAGE]

            async def decrypt() -> Any:
                return await reader.open("students", stored)

            rows.append((f"AES-256-GCM open + JSON parse of {PAGE} records", await _timed(repeat, decrypt)))
            opened = await reader.open("students", stored)
            fields = access.fields_of("students")

            def project() -> list[dict[str, Any]]:
                return [
                    _out(record, "students", fields, row, None)
                    for record, row in zip(opened, stored, strict=True)
                ]

            rows.append((f"projection of {PAGE} records", await _timed(repeat, _sync(project))))
            records = project()
            etag = _sync(lambda: make_etag(access, change_seq, f"list|students|{PAGE}||"))
            rows.append(("ETag (SHA-256 of grant, scopes, change number, query)", await _timed(repeat, etag)))
            body = _sync(lambda: orjson.dumps({"data": records, "next_cursor": "x"}))
            rows.append((f"serialise {PAGE} records (orjson)", await _timed(repeat, body)))

            pupils = carried_pupils(Kind.STUDENTS, stored, records)

            async def log() -> None:
                await log_access(session, access, [delivered("students", records, pupils)], None)

            rows.append(
                (f"access-log insert, the {PAGE} pupils' set already stored", await _timed(repeat, log))
            )
            fresh = iter(range(10**9))

            async def log_new_set() -> None:
                new = frozenset(f"{pupil}-{next(fresh)}" for pupil in pupils)
                await log_access(session, access, [delivered("students", records, new)], None)

            new_set = await _timed(repeat, log_new_set)
            await session.rollback()
    finally:
        await engine.dispose()
    total = sum(value for _label, value in rows)
    print(f"\nIn-process, one listing request's steps, median of {repeat} runs each (µs):\n")
    print("| step | µs | share |")
    print("|---|---:|---:|")
    for label, value in rows:
        print(f"| {label} | {value:,.0f} | {value / total:.0%} |")
    print(f"| sum of the steps (HTTP, routing, middleware not included) | {total:,.0f} | |")
    print(
        f"\nThe access-log insert when the page's set of {PAGE} pupils is new (stored with its pupils): "
        f"{new_set:,.0f} µs."
    )


def _sync(function: Callable[[], Any]) -> Callable[[], Awaitable[Any]]:
    async def call() -> Any:
        return function()

    return call


def _bearer(token: str | None) -> list[str]:
    return ["-H", f"Authorization: Bearer {token}"] if token is not None else []


WALK_PAGES = 10


def walk_paths(base_url: str, token: str) -> list[str]:
    """The first WALK_PAGES pages' paths, by following `next_cursor`."""
    paths, cursor = [PATH], None
    while len(paths) < WALK_PAGES:
        answer = httpx.get(
            f"{base_url}/api/v1/students",
            params={"limit": PAGE, **({"cursor": cursor} if cursor else {})},
            headers={"authorization": f"Bearer {token}"},
            timeout=10,
        )
        answer.raise_for_status()
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            break
        paths.append(str(httpx.URL(PATH).copy_merge_params({"cursor": cursor})))
    return paths


def lua_walk(paths: list[str], token: str) -> str:
    """A wrk script sending `paths` in turn with the bearer token."""
    listed = ", ".join(f'"{path}"' for path in paths)
    return (
        f"paths = {{{listed}}}\n"
        "i = 0\n"
        "request = function()\n"
        "  i = i % #paths + 1\n"
        f'  return wrk.format("GET", paths[i], {{["Authorization"] = "Bearer {token}"}})\n'
        "end\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--breakdown", action="store_true")
    parser.add_argument("--repeat", type=int, default=500, help="runs of each step in --breakdown")
    args = parser.parse_args()
    master_key = os.urandom(32)
    master_key_b64 = base64.b64encode(master_key).decode()
    os.environ["GATEWAY_API_RATE_LIMIT"] = RATE_LIMIT_FOR_THE_RUN  # `serve` passes the environment on

    print(
        f"# Proxy — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {args.workers} workers"
    )
    print(f"wrk: 1 thread, {args.connections} connections, {args.seconds} s per row (after a 2 s warm-up)")
    with (
        bench_database() as url,
        serve(url, master_key_b64, args.workers) as server,
        tempfile.TemporaryDirectory() as tmp,
    ):
        prepared = asyncio.run(prepare(url, master_key, server.base_url, args.students))
        check = httpx.get(
            f"{server.base_url}{PATH}", headers={"authorization": f"Bearer {prepared.token}"}, timeout=10
        )
        check.raise_for_status()
        records = len(check.json()["data"])
        fields = sorted(check.json()["data"][0])
        paths = walk_paths(server.base_url, prepared.token)
        walk = Path(tmp) / "walk.lua"
        walk.write_text(lua_walk(paths, prepared.token))
        print(
            f"school: {prepared.school_students:,} pupils; each answer: {records} records, fields {fields}\n"
        )
        print(
            "| measure | requests/s | records/s | p50 ms | p99 ms | vs /healthz "
            "| gateway CPU µs/request | PostgreSQL CPU µs/request |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        meter = CpuMeter(server.process.pid, make_url(url).database or "")
        floor = None
        for label, target, options, per_answer in (
            ("/healthz (floor)", f"{server.base_url}/healthz", [], 0),
            (f"GET {PATH}", f"{server.base_url}{PATH}", _bearer(prepared.token), records),
            (f"the first {len(paths)} pages in turn", server.base_url, ["-s", str(walk)], records),
        ):
            run_wrk(target, seconds=2, connections=args.connections, options=options)
            gateway_before, database_before = meter.read()
            result = run_wrk(target, seconds=args.seconds, connections=args.connections, options=options)
            gateway_after, database_after = meter.read()
            rate = result.requests_per_second
            requests = rate * args.seconds
            gateway_cpu = 1e6 * meter.spent(gateway_before, gateway_after) / requests
            database_cpu = 1e6 * meter.spent(database_before, database_after) / requests
            floor = floor or rate
            shown = f"{rate * per_answer:,.0f}" if per_answer else "—"
            print(
                f"| {label} | {rate:,.0f} | {shown} | {result.p50_ms:.2f} | {result.p99_ms:.2f} | "
                f"{rate / floor:.0%} | {gateway_cpu:,.0f} | {database_cpu:,.0f} |"
            )
        if args.breakdown:
            asyncio.run(breakdown(url, master_key, server.base_url, prepared.token, args.repeat))


if __name__ == "__main__":
    main()
