"""Rolling restart behind HAProxy (issue 18, item 1): 0 failed requests while each gateway is restarted.

Run: `.venv/bin/python -m bench.rolling_restart [--before 10] [--after 10] [--concurrency 16] [--drain S]
[--no-redispatch]` from the repository root. Needs PostgreSQL (GATEWAY_TEST_POSTGRES_URL, default
127.0.0.1:5432 user postgres); installs Debian's haproxy if it is missing. Two `gateway serve` processes
(one worker each) on a throwaway database, on two ports behind HAProxy (round robin, health checks on
`/readyz` every 300 ms, down after 2 failures, up after 2 successes; a refused connection is retried on the
other server unless `--no-redispatch`). The mixed load (`bench.mixed_load`) runs through HAProxy for
`--before` seconds; then each gateway in turn gets SIGTERM, is waited for (it drains for `--drain` seconds,
lets its requests in flight finish and exits), is started again and waited for until HAProxy has it UP;
then the load runs `--after` seconds more. Prints p50/p99 and failures before, during and after the
restarts, and each process's resident memory at start and at the end; exits 1 if any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
from pathlib import Path

from tests.support.server import free_port

from bench.mixed_load import (
    HAPROXY_CHECK_INTERVAL_MS,
    HAPROXY_FALL,
    MixedLoad,
    Window,
    gateway_env,
    haproxy_config,
    kind_table,
    prepare,
    rss_mib,
    run_check,
    start_gateway,
    start_haproxy,
    stop_gateway,
    wait_for_haproxy,
    wait_until_ready,
    window_table,
)

GRACE_SECONDS = 10


async def rolling_restart(args: argparse.Namespace, database_url: str, work: Path) -> int:
    master_key = os.urandom(32)
    port, stats_port = free_port(), free_port()
    backends = [free_port(), free_port()]
    issuer = f"http://127.0.0.1:{port}"  # the public URL: both processes are one issuer
    env = gateway_env(database_url, master_key, issuer, work)
    env["GATEWAY_SHUTDOWN_DRAIN_SECONDS"] = str(args.drain)
    env["GATEWAY_SHUTDOWN_GRACE_SECONDS"] = str(GRACE_SECONDS)
    prepared = await prepare(database_url, master_key, issuer)
    log = work / "gateway.log"
    processes = [start_gateway(backend, env, workers=1, log=log) for backend in backends]
    haproxy: subprocess.Popen[bytes] | None = None
    memory: list[tuple[str, float, float]] = []  # (process, RSS at start, RSS at its end) in MiB
    try:
        for backend, process in zip(backends, processes, strict=True):
            await wait_until_ready(f"http://127.0.0.1:{backend}", process)
        config = work / "haproxy.cfg"
        config.write_text(haproxy_config(port, stats_port, backends, redispatch=not args.no_redispatch))
        haproxy = start_haproxy(config, work / "haproxy.log")
        for name in ("gw1", "gw2"):
            await wait_for_haproxy(stats_port, name, "UP")
        started_rss = [rss_mib(process.pid) for process in processes]

        load = MixedLoad(f"http://127.0.0.1:{port}", prepared, concurrency=args.concurrency)
        running = asyncio.create_task(load.run())
        await asyncio.sleep(args.before)
        restarts_began = load.now()
        steps = []
        for index, backend in enumerate(backends):
            name = f"gw{index + 1}"
            old = processes[index]
            memory.append((f"{name} (first)", started_rss[index], rss_mib(old.pid)))
            marked_at = load.now()
            stopping = asyncio.create_task(stop_gateway(old, seconds=args.drain + GRACE_SECONDS + 15))
            down_after = await wait_for_haproxy(stats_port, name, "DOWN")
            exit_seconds = await stopping
            processes[index] = start_gateway(backend, env, workers=1, log=log)
            await wait_until_ready(f"http://127.0.0.1:{backend}", processes[index])
            up_after = await wait_for_haproxy(stats_port, name, "UP")
            started_rss[index] = rss_mib(processes[index].pid)
            steps.append((name, marked_at, down_after, exit_seconds, up_after))
            await asyncio.sleep(2)  # both serving again before the next one goes
        restarts_ended = load.now()
        await asyncio.sleep(args.after)
        load.stop()
        await running
        ended = load.now()
        memory += [
            (f"gw{index + 1} (restarted)", started_rss[index], rss_mib(process.pid))
            for index, process in enumerate(processes)
        ]
    finally:
        for process in processes:
            if process.poll() is None:
                await stop_gateway(process, seconds=30)
        if haproxy is not None:
            haproxy.terminate()
            haproxy.wait()

    windows = [
        Window("before", 0, restarts_began),
        Window("during the restarts", restarts_began, restarts_ended),
        Window("after", restarts_ended, ended),
        Window("all", 0, ended),
    ]
    samples = load.samples
    failed = sum(1 for sample in samples if sample.reason)
    print(f"{len(samples):,} requests, {failed} failed, {args.concurrency} clients through HAProxy\n")
    print(window_table(windows, samples))
    print()
    print(kind_table(samples))
    print("\n| process | SIGTERM at (s) | HAProxy DOWN after (s) | exited after (s) | new one UP after (s) |")
    print("|---|---:|---:|---:|---:|")
    for name, marked_at, down_after, exit_seconds, up_after in steps:
        print(f"| {name} | {marked_at:.1f} | {down_after:.2f} | {exit_seconds:.2f} | {up_after:.2f} |")
    print("\n| process | RSS at start MiB | RSS at end MiB |")
    print("|---|---:|---:|")
    for label, start, end in memory:
        print(f"| {label} | {start:.0f} | {end:.0f} |")
    changes = [
        line.split("]", 1)[-1].strip()
        for line in (work / "haproxy.log").read_text(errors="replace").splitlines()
        if " is DOWN" in line or " is UP" in line
    ]
    expected = "each restart: DOWN then UP; both DOWN at the end"
    print(f"\nHAProxy's server state changes ({len(changes)}; {expected}):")
    for change in changes:
        print(f"- {change[:160]}")
    goal = failed == 0
    print(f"\nGoal: 0 failed requests — {'met' if goal else 'MISSED'}.")
    return 0 if goal else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=float, default=10)
    parser.add_argument("--after", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--drain",
        type=float,
        default=2 * HAPROXY_FALL * HAPROXY_CHECK_INTERVAL_MS / 1000 + 0.8,
        help="GATEWAY_SHUTDOWN_DRAIN_SECONDS for the run: longer than HAProxy takes to mark a server down",
    )
    parser.add_argument(
        "--no-redispatch",
        action="store_true",
        help="HAProxy retries a refused connection on the same server only: shows what the drain alone does",
    )
    args = parser.parse_args()
    run_check(
        "Rolling restart",
        (
            "two `gateway serve --workers 1` behind HAProxy "
            f"({'no redispatch' if args.no_redispatch else 'option redispatch'}), drain {args.drain:g} s"
        ),
        rolling_restart,
        args,
    )


if __name__ == "__main__":
    main()
