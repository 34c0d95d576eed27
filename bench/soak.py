"""Soak (issue 18, item 3): the mixed load for `--minutes` at ~70 % of the measured maximum on 2 workers.

Run: `.venv/bin/python -m bench.soak [--minutes 10] [--share 0.7] [--workers 2] [--concurrency 32]` from the
repository root. Needs PostgreSQL (GATEWAY_TEST_POSTGRES_URL, default 127.0.0.1:5432 user postgres).
`gateway serve --workers 2` on a throwaway database with the purge every `--purge-interval` seconds
(GATEWAY_PURGE_INTERVAL_SECONDS). First the mixed load (`bench.mixed_load`) runs unpaced for
`--probe-seconds` to measure the maximum; the authorization requests and access-token rows it left are
then aged by two hours in the database (all but the school token's), so the purge has expired rows to
delete while the soak runs. Then the soak, paced to `--share` of the maximum, sampling every 10 s each
worker's resident memory, the PostgreSQL connections to the database and the rows of the tables the purge
keeps small, and the CPU other work on the machine used meanwhile. Goals: 0 failed requests; last minute's
p99 at most 1.5 times the first minute's (or 20 ms more); each worker's RSS grows by less than 10 % after
the first minute (its warm-up; the growth from the start is printed too); PostgreSQL connections never above
workers times what one process's pool may hold (its size plus its overflow); none of the aged rows left at
the end. Exits 1 if one is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool
from tests.support.server import free_port

from bench.common import CpuMeter, worker_pids
from bench.mixed_load import (
    KINDS,
    PURGED_TABLES,
    MixedLoad,
    Prepared,
    Sample,
    Window,
    database_figures,
    gateway_env,
    kind_table,
    percentile,
    prepare,
    rss_mib,
    run_check,
    start_gateway,
    stop_gateway,
    wait_until_ready,
    window_table,
)
from gateway.db.engine import create_engine
from gateway.settings import Settings

SAMPLE_EVERY_SECONDS = 10
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WARM_UP_SECONDS = 60  # memory is compared from the end of the first minute (imports, caches, pools)
AGED_TABLES = ("authorization_requests", "access_tokens")


@dataclass
class Readings:
    """Samples taken every SAMPLE_EVERY_SECONDS during the soak."""

    meter: CpuMeter  # the gateway's processes and the bench database's PostgreSQL backends
    at: list[float] = field(default_factory=list)  # seconds into the soak
    rss: dict[int, list[float]] = field(default_factory=dict)  # worker pid → MiB
    connections: list[int] = field(default_factory=list)
    rows: list[dict[str, int]] = field(default_factory=list)
    busy: list[float] = field(default_factory=list)  # CPU seconds the whole machine spent
    ours: list[float] = field(default_factory=list)  # … of which the gateway, its backends, this bench

    async def take(self, at: float, workers: list[int], engine: AsyncEngine) -> None:
        self.at.append(at)
        for pid in workers:
            self.rss.setdefault(pid, []).append(rss_mib(pid))
        connections, rows = await database_figures(engine)
        self.connections.append(connections)
        self.rows.append(rows)
        gateway, backends = self.meter.read()
        own = os.times()
        self.ours.append(sum(gateway.values()) + sum(backends.values()) + own.user + own.system)
        self.busy.append(machine_busy_seconds())

    def at_or_before(self, seconds: float) -> int:
        """Index of the last reading taken at or before `seconds` (the first one at least)."""
        return max([0] + [index for index, at in enumerate(self.at) if at <= seconds + 0.5])

    def other_cores(self, start: float, end: float) -> float:
        """Cores busy with other work (not the gateway, its backends or this bench) between two times."""
        first, last = self.at_or_before(start), self.at_or_before(end)
        if last <= first:
            return float("nan")
        other = (self.busy[last] - self.busy[first]) - (self.ours[last] - self.ours[first])
        return max(0.0, other) / (self.at[last] - self.at[first])


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent not idle since boot (/proc/stat)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


def minute_table(samples: list[Sample], readings: Readings, ended: float) -> str:
    """Minute by minute: requests, p50/p99 (all, and the consent page), each worker's RSS at the minute's
    end, and the cores other work on the machine kept busy meanwhile."""
    pids = list(readings.rss)
    lines = [
        "| minute | requests | p50 ms | p99 ms | consent p99 ms | "
        + " | ".join(f"RSS {pid} MiB" for pid in pids)
        + " | other work (cores) |",
        "|---:|---:|---:|---:|---:|" + "---:|" * len(pids) + "---:|",
    ]
    for minute in range(math.ceil(ended / 60)):
        start, end = minute * 60.0, min(ended, minute * 60.0 + 60)
        inside = Window("", start, end).of(samples)
        latencies = [sample.latency_ms for sample in inside]
        consent = [sample.latency_ms for sample in inside if sample.kind == "consent"]
        index = readings.at_or_before(end)
        rss = " | ".join(f"{readings.rss[pid][index]:.1f}" for pid in pids)
        lines.append(
            f"| {minute + 1} | {len(inside):,} | {percentile(latencies, 0.5):.1f} "
            f"| {percentile(latencies, 0.99):.1f} | {percentile(consent, 0.99):.1f} | {rss} "
            f"| {readings.other_cores(start, end):.2f} |"
        )
    return "\n".join(lines)


def pool_capacity(database_url: str) -> int:
    """Connections one process's pool may hold: its size plus its overflow (gateway.db.engine)."""
    engine = create_engine(Settings(database_url=database_url))
    pool = engine.sync_engine.pool
    engine.sync_engine.dispose()
    if not isinstance(pool, QueuePool):
        sys.exit(f"expected a QueuePool, found {type(pool).__name__}")
    return pool.size() + max(0, pool._max_overflow)


def jti_of(token: str) -> str:
    payload = token.split(".")[1]
    jti: str = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["jti"]
    return jti


async def age_rows(engine: AsyncEngine, prepared: Prepared) -> dict[str, int]:
    """Move the expiry of what the probe left two hours back (not the school token's row): rows the purge
    must delete during the soak. How many in each table."""
    aged = {}
    async with engine.begin() as connection:
        for table in AGED_TABLES:
            keep = " WHERE jti <> :jti" if table == "access_tokens" else ""
            result = await connection.execute(
                text(f"UPDATE {table} SET expires_at = expires_at - interval '2 hours'{keep}"),  # noqa: S608
                {"jti": jti_of(prepared.school_token)},
            )
            aged[table] = result.rowcount
    return aged


async def aged_left(engine: AsyncEngine) -> dict[str, int]:
    """Rows whose expiry is more than an hour past: only the aged ones can be."""
    async with engine.connect() as connection:
        return {
            table: int(
                await connection.scalar(
                    text(f"SELECT count(*) FROM {table} WHERE expires_at < now() - interval '1 hour'")  # noqa: S608
                )
                or 0
            )
            for table in AGED_TABLES
        }


async def soak(args: argparse.Namespace, database_url: str, work: Path) -> int:
    master_key = os.urandom(32)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = gateway_env(database_url, master_key, base_url, work)
    env["GATEWAY_PURGE_INTERVAL_SECONDS"] = str(args.purge_interval)
    prepared = await prepare(database_url, master_key, base_url)
    process = start_gateway(port, env, workers=args.workers, log=work / "gateway.log")
    engine = create_engine(Settings(database_url=database_url))
    readings = Readings(CpuMeter(process.pid, make_url(database_url).database or ""))
    try:
        await wait_until_ready(base_url, process)
        workers = worker_pids(process.pid)
        probe = MixedLoad(base_url, prepared, concurrency=args.concurrency)
        probing = asyncio.create_task(probe.run())
        await asyncio.sleep(args.probe_seconds)
        probe.stop()
        await probing
        probe_seconds = probe.now()
        slots = sum(1 for sample in probe.samples if sample.kind in KINDS)
        maximum = slots / probe_seconds
        aged = await age_rows(engine, prepared)

        load = MixedLoad(base_url, prepared, concurrency=args.concurrency, rate=args.share * maximum)
        running = asyncio.create_task(load.run())
        await readings.take(load.now(), workers, engine)
        deadline = time.monotonic() + args.minutes * 60
        while time.monotonic() < deadline:
            await asyncio.sleep(min(SAMPLE_EVERY_SECONDS, max(0.0, deadline - time.monotonic())))
            await readings.take(load.now(), workers, engine)
        load.stop()
        await running
        ended = load.now()
        left = await aged_left(engine)
    finally:
        await stop_gateway(process, seconds=30)
        await engine.dispose()

    samples = load.samples
    failed = sum(1 for sample in samples if sample.reason)
    first = Window("first minute", 0, min(60, ended))
    last = Window("last minute", max(0, ended - 60), ended)
    windows = [first, last, Window("all", 0, ended)]
    print(
        f"Probe: {len(probe.samples):,} requests in {probe_seconds:.0f} s unpaced, "
        f"{args.concurrency} clients: "
        f"maximum {maximum:.0f} turns/s (a turn: one token request, introspection, data page or "
        f"authorization request + consent page). Soak paced to {args.share:.0%}: "
        f"{args.share * maximum:.0f} turns/s for {args.minutes:g} min.\n"
    )
    print(f"{len(samples):,} requests, {failed} failed\n")
    print(window_table(windows, samples))
    print()
    print(kind_table(samples))
    p99_first = percentile([s.latency_ms for s in first.of(samples)], 0.99)
    p99_last = percentile([s.latency_ms for s in last.of(samples)], 0.99)

    print("\n" + minute_table(samples, readings, ended))
    warm = readings.at_or_before(WARM_UP_SECONDS)
    print(
        "\n| worker | RSS at start MiB | after the first minute | at end | growth from start "
        "| growth after the first minute | max MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    growths = []
    for pid, series in readings.rss.items():
        from_start = (series[-1] - series[0]) / series[0] if series[0] else float("inf")
        growth = (series[-1] - series[warm]) / series[warm] if series[warm] else float("inf")
        growths.append(growth)
        print(
            f"| {pid} | {series[0]:.1f} | {series[warm]:.1f} | {series[-1]:.1f} | {from_start:+.1%} "
            f"| {growth:+.1%} | {max(series):.1f} |"
        )
    bound = args.workers * pool_capacity(database_url)
    print(
        f"\nPostgreSQL connections to the database (pg_stat_activity, every {SAMPLE_EVERY_SECONDS} s): "
        f"start {readings.connections[0]}, end {readings.connections[-1]}, max {max(readings.connections)} "
        f"(bound {bound})."
    )
    print("\n| table | rows at start | rows at end | max | aged rows (expired 2 h back) | aged rows left |")
    print("|---|---:|---:|---:|---:|---:|")
    for table in PURGED_TABLES:
        series = [rows[table] for rows in readings.rows]
        print(
            f"| {table} | {series[0]:,} | {series[-1]:,} | {max(series):,} | {aged.get(table, '—')} "
            f"| {left.get(table, '—')} |"
        )
    goals = [
        ("0 failed requests", failed == 0, f"{failed}"),
        (
            "p99 steady: last minute <= max(1.5 * first, first + 20 ms)",
            p99_last <= max(1.5 * p99_first, p99_first + 20),
            f"{p99_first:.1f} → {p99_last:.1f} ms",
        ),
        (
            "each worker's RSS grows < 10 % after the first minute",
            all(g < 0.10 for g in growths),
            ", ".join(f"{g:+.1%}" for g in growths),
        ),
        (
            f"PostgreSQL connections ≤ {bound}",
            max(readings.connections) <= bound,
            f"max {max(readings.connections)}",
        ),
        ("the aged rows purged", not any(left.values()), f"{sum(left.values())} left"),
    ]
    print()
    for goal, met, detail in goals:
        print(f"Goal: {goal} — {'met' if met else 'MISSED'} ({detail}).")
    return 0 if all(met for _goal, met, _detail in goals) else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--share", type=float, default=0.7, help="of the measured maximum")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--probe-seconds", type=float, default=20)
    parser.add_argument("--purge-interval", type=int, default=30, help="GATEWAY_PURGE_INTERVAL_SECONDS")
    args = parser.parse_args()
    run_check(
        "Soak", f"`gateway serve --workers {args.workers}`, purge every {args.purge_interval} s", soak, args
    )


if __name__ == "__main__":
    main()
