"""The framework floor: `/healthz` requests per second under uvicorn with 1 and 2 workers on PostgreSQL.

Run: `.venv/bin/python -m bench.healthz [--seconds 10] [--connections 64]` from the repository root
(after `scripts/test` or `scripts/demo` has made .venv). Needs PostgreSQL (GATEWAY_TEST_POSTGRES_URL,
default 127.0.0.1:5432 user postgres); installs Debian's wrk if it is missing. wrk and the gateway share
the machine's cores, so the figures are a floor for comparison, not a capacity claim.
"""

from __future__ import annotations

import argparse
import base64
import os
import platform
from datetime import UTC, datetime

from bench.common import bench_database, run_wrk, serve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    master_key = base64.b64encode(os.urandom(32)).decode()

    print(
        f"# /healthz floor — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"wrk: 1 thread, {args.connections} connections, {args.seconds} s per row (after a 2 s warm-up)\n")
    print("| workers | requests/s | p50 ms | p99 ms |")
    print("|--------:|-----------:|-------:|-------:|")
    with bench_database() as url:
        for workers in args.workers:
            with serve(url, master_key, workers) as server:
                run_wrk(f"{server.base_url}/healthz", seconds=2, connections=args.connections)
                result = run_wrk(
                    f"{server.base_url}/healthz", seconds=args.seconds, connections=args.connections
                )
            rps, p50, p99 = result.requests_per_second, result.p50_ms, result.p99_ms
            print(f"| {workers} | {rps:,.0f} | {p50:.2f} | {p99:.2f} |")


if __name__ == "__main__":
    main()
