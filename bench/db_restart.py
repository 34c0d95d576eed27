"""PostgreSQL restarted under load (issue 18, item 2): 503 + Retry-After during the outage, normal within 5 s.

Run: `.venv/bin/python -m bench.db_restart [--before 10] [--after 20] [--concurrency 16] [--workers 2]`
from the repository root, as root or with sudo (it runs `pg_ctlcluster <version> <cluster> restart` on the
cluster `pg_lsclusters` lists on port 5432): **every database of that cluster goes away for a moment**, so
do not run it beside other work on the same cluster. `gateway serve --workers 2` on a throwaway database;
the mixed load (`bench.mixed_load`) runs `--before` seconds, then the cluster is restarted, and the load
goes on until `--after` seconds after the database accepts connections again. Goals: during the outage
(from the restart command to the database accepting connections again, plus 5 s) every answer is the
expected one or 503 with Retry-After — never a 500, a dropped connection or a hang past the client's
10 s timeout —, and from 5 s after the database returned every answer is the expected one. Exits 1 if a
goal is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import asyncpg
import orjson
from sqlalchemy.engine import make_url
from tests.support.databases import postgres_admin_url
from tests.support.server import free_port

from bench.mixed_load import (
    MixedLoad,
    Window,
    gateway_env,
    kind_table,
    prepare,
    run_check,
    start_gateway,
    stop_gateway,
    unavailable,
    wait_until_ready,
    window_table,
)

RECOVERY_SECONDS = 5.0


def cluster() -> tuple[str, str]:
    """(version, name) of the cluster on the admin URL's port, from `pg_lsclusters`."""
    port = str(make_url(postgres_admin_url()).port or 5432)
    listed = subprocess.run(["pg_lsclusters", "--no-header"], check=True, capture_output=True, text=True)
    for line in listed.stdout.splitlines():
        version, name, cluster_port, *_ = line.split()
        if cluster_port == port:
            return version, name
    sys.exit(f"pg_lsclusters lists no cluster on port {port}")


def restart_command() -> list[str]:
    version, name = cluster()
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    return [*sudo, "pg_ctlcluster", version, name, "restart"]


async def accepting(dsn: str) -> bool:
    try:
        connection = await asyncpg.connect(dsn, timeout=1)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


async def wait_until_accepting(dsn: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await accepting(dsn):
            return
        await asyncio.sleep(0.05)
    sys.exit(f"PostgreSQL did not accept connections within {seconds} s of the restart")


def ensure_started(command: list[str]) -> None:
    """After a failed restart, start the cluster again (`… start`) if it is down: never leave it down."""
    start = [*command[:-1], "start"]
    subprocess.run(start, check=False, capture_output=True)


async def db_restart(args: argparse.Namespace, database_url: str, work: Path) -> int:
    master_key = os.urandom(32)
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    command = restart_command()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = gateway_env(database_url, master_key, base_url, work)
    prepared = await prepare(database_url, master_key, base_url)
    # The gateway's log goes to a file: a pipe nobody reads would fill with the outage's warnings and
    # block the gateway.
    log = work / "gateway.log"
    process = start_gateway(port, env, workers=args.workers, log=log)
    try:
        await wait_until_ready(base_url, process)
        load = MixedLoad(base_url, prepared, concurrency=args.concurrency)
        running = asyncio.create_task(load.run())
        await asyncio.sleep(args.before)
        restart_began = load.now()
        restart = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        output, _ = await restart.communicate()
        command_ended = load.now()
        if restart.returncode != 0:
            ensure_started(command)
            load.stop()
            await running
            sys.exit(f"{' '.join(command)} failed (the cluster was started again): {output.decode()}")
        await wait_until_accepting(dsn)
        database_back = load.now()
        await asyncio.sleep(args.after)
        load.stop()
        await running
        ended = load.now()
    finally:
        await stop_gateway(process, seconds=30)
    lines = [line for line in log.read_bytes().splitlines() if line.startswith(b"{")]
    entries = [orjson.loads(line) for line in lines]
    levels = Counter(str(entry.get("level")) for entry in entries)
    logged = Counter(
        f"{entry.get('level')} {entry.get('logger')}: {entry.get('message')} ({entry.get('error', '')})"
        for entry in entries
        if entry.get("level") in ("WARNING", "ERROR", "CRITICAL")
    )

    samples = load.samples
    recovered = database_back + RECOVERY_SECONDS
    outage = [s for s in samples if restart_began <= s.started < recovered]
    settled = [s for s in samples if s.started >= recovered]
    # Before: requests that ended before the restart began (one in flight then may meet the outage).
    bad_before = [s for s in samples if s.reason and s.started + s.latency_ms / 1000 < restart_began]
    bad_in_outage = [s for s in outage if s.reason and not unavailable(s)]
    bad_after = [s for s in settled if s.reason]
    not_normal_after_return = [s for s in samples if s.started >= database_back and s.reason]
    last_not_normal = max((s.started + s.latency_ms / 1000 for s in not_normal_after_return), default=None)
    windows = [
        Window("before", 0, restart_began),
        Window("restart command → database accepts again", restart_began, database_back),
        Window("first 5 s after the database returned", database_back, recovered),
        Window("after", recovered, ended),
        Window("all", 0, ended),
    ]
    print(
        f"{len(samples):,} requests, {args.concurrency} clients, `gateway serve --workers {args.workers}`\n"
    )
    print(window_table(windows, samples))
    print()
    print(kind_table(samples))
    print(
        f"\n`{' '.join(command)}` took {command_ended - restart_began:.2f} s; the database accepted "
        f"connections again {database_back - restart_began:.2f} s after it began."
    )
    print(
        "The gateway's log: "
        + (", ".join(f"{count} {level}" for level, count in sorted(levels.items())) or "empty")
        + " lines (each 503 logs a WARNING naming the error class; an unhandled error would be an ERROR)."
    )
    for message, count in logged.most_common():
        print(f"- {message}: {count}")
    if last_not_normal is None:
        print("Every request that began after the database returned got its normal answer.")
    else:
        print(
            f"The last answer that was not the normal one ended {last_not_normal - database_back:.2f} s "
            "after the database returned."
        )
    goals = [
        ("normal answers before the restart", not bad_before, f"{len(bad_before)} not normal"),
        (
            "during the outage only normal answers or 503 + Retry-After",
            not bad_in_outage,
            f"{len(bad_in_outage)} other",
        ),
        (
            "normal answers from 5 s after the database returned",
            not bad_after,
            f"{len(bad_after)} not normal",
        ),
    ]
    print()
    for goal, met, detail in goals:
        print(f"Goal: {goal} — {'met' if met else 'MISSED'} ({detail}).")
    return 0 if all(met for _goal, met, _detail in goals) else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=float, default=10)
    parser.add_argument("--after", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    run_check("Database restart", f"PostgreSQL cluster {' '.join(cluster())}", db_restart, args)


if __name__ == "__main__":
    main()
