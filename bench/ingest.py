"""Ingest: records per second through the HTTP connector API into PostgreSQL, encryption on.

Run: `.venv/bin/python -m bench.ingest [--students 1000] [--workers 2] [--concurrency 4]` from the
repository root. It generates a synthetic school (the demo's generator), creates the school and a
connector key in a throwaway PostgreSQL database, starts `gateway serve` with N workers, measures the
`/healthz` floor with wrk, then pushes every resource in batches of up to 5,000 records with C
concurrent connections, and prints records/s overall and per resource. `--breakdown` also times the
phases of one 5,000-record batch in-process (validation, sealing, database) to show where time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import time
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker

from bench.common import bench_database, run_wrk, serve
from gateway.audit import events
from gateway.connector import keys
from gateway.db.engine import create_engine
from gateway.keys.envelope import record_context, seal
from gateway.keys.keyring import Keyring
from gateway.mis.ingest import apply_batch
from gateway.mis.synthetic import RESOURCE_ORDER, generate_school
from gateway.mis.validation import MAX_BATCH_RECORDS, validate_batch
from gateway.schools.service import create_school
from gateway.settings import Settings


async def prepare(url: str, master_key: bytes, school: dict[str, Any]) -> str:
    engine = create_engine(Settings(database_url=url))
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session, session.begin():
            created = await create_school(
                session,
                urn=school["urn"],
                name=school["name"],
                la_code=school["la_code"],
                establishment_number=school["establishment_number"],
                phase="secondary",
            )
            _row, token = await keys.create_key(
                session, Keyring(master_key), created.id, actor=events.OPERATOR
            )
    finally:
        await engine.dispose()
    return token


def batches(records: dict[str, list[dict[str, Any]]]) -> list[tuple[str, int, bytes]]:
    """(resource, record count, encoded body) in push order; encoding happens before the clock starts."""
    out = []
    for resource in RESOURCE_ORDER:
        items = records.get(resource, [])
        for start in range(0, len(items), MAX_BATCH_RECORDS):
            chunk = items[start : start + MAX_BATCH_RECORDS]
            out.append((resource, len(chunk), json.dumps({"upsert": chunk}).encode()))
    return out


async def push(
    base_url: str, token: str, work: list[tuple[str, int, bytes]], concurrency: int
) -> dict[str, float]:
    per_resource: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])  # records, busy seconds
    queue: asyncio.Queue[tuple[str, int, bytes]] = asyncio.Queue()
    for item in work:
        queue.put_nowait(item)
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            resource, count, body = queue.get_nowait()
            started = time.perf_counter()
            response = await client.post(f"/connector/v1/{resource}/batch", content=body, headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"{resource}: {response.status_code} {response.text[:500]}")
            per_resource[resource][0] += count
            per_resource[resource][1] += time.perf_counter() - started

    # Resources that reference others go after them: push resource by resource, batches in parallel.
    async with httpx.AsyncClient(base_url=base_url, timeout=300) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    total = sum(count for count, _ in per_resource.values())
    return {"total": total, "seconds": elapsed}


async def breakdown(
    url: str, master_key: bytes, records: list[dict[str, Any]], resource: str
) -> dict[str, float]:
    """Time one batch's phases in-process: validation, sealing alone, and the whole apply (seal + SQL)."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    batch = validate_batch(resource, records, [], today=date.today())
    timings["validate"] = time.perf_counter() - started
    key = os.urandom(32)
    started = time.perf_counter()
    for record in batch.upserts:
        seal(key, record.model_dump_json(exclude_none=True).encode(), record_context("s", resource, "r", "k"))
    timings["serialise + seal"] = time.perf_counter() - started
    engine = create_engine(Settings(database_url=url))
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session, session.begin():
            school = await create_school(
                session,
                urn="999001",
                name="Breakdown",
                la_code="201",
                establishment_number="4001",
                phase="secondary",
            )
            await session.flush()
            keyring = Keyring(master_key)
            await keyring.active_key(session, school.id)
            runs = []
            for _ in range(3):  # the first pays for statement preparation; report the best
                started = time.perf_counter()
                await apply_batch(session, keyring, school, batch)
                runs.append(time.perf_counter() - started)
            timings["apply: seal + SQL upsert (best of 3)"] = min(runs)
            await session.rollback()
    finally:
        await engine.dispose()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--breakdown", action="store_true")
    args = parser.parse_args()
    master_key = os.urandom(32)
    today = date.today()

    generated = generate_school(args.seed, students=args.students, today=today)
    work = batches(generated.records)
    print(
        f"# Ingest — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    records = sum(count for _, count, _ in work)
    print(
        f"synthetic school seed {args.seed}, {args.students} pupils: {records:,} records in {len(work)} "
        f"batches; gateway workers {args.workers}, client concurrency {args.concurrency}\n"
    )
    with bench_database() as url:
        token = asyncio.run(prepare(url, master_key, generated.school))
        with serve(url, base64.b64encode(master_key).decode(), args.workers) as server:
            floor = run_wrk(f"{server.base_url}/healthz", seconds=5, connections=64)
            result = asyncio.run(push(server.base_url, token, work, args.concurrency))
        print("| measure | value |")
        print("|---|---:|")
        print(f"| /healthz floor (wrk, 64 connections) | {floor.requests_per_second:,.0f} req/s |")
        print(f"| records ingested | {int(result['total']):,} |")
        print(f"| wall time | {result['seconds']:.1f} s |")
        print(f"| **ingest rate** | **{result['total'] / result['seconds']:,.0f} records/s** |")
        if args.breakdown:
            sample = generated.records["attendance_sessions"][:MAX_BATCH_RECORDS]
            timings = asyncio.run(breakdown(url, master_key, sample, "attendance_sessions"))
            print(f"\nOne batch of {len(sample):,} attendance sessions, in-process:\n")
            print("| phase | ms | µs/record |")
            print("|---|---:|---:|")
            for phase, seconds in timings.items():
                print(f"| {phase} | {seconds * 1000:,.0f} | {seconds / len(sample) * 1e6:,.1f} |")


if __name__ == "__main__":
    main()
