"""Export: how long a 1,000-pupil school's export takes to build and to download, its size, and the memory
it needs.

Run: `.venv/bin/python -m bench.export [--students 1000] [--days 190] [--postgres] [--tracemalloc]` from
the repository root. Loads the demo school (`gateway.mis.synthetic`: the given pupils with `--days` school
days of attendance, through `gateway.mis.demo_school`) into a throwaway database (SQLite in a temporary
directory, or PostgreSQL with `--postgres`: GATEWAY_TEST_POSTGRES_URL, default 127.0.0.1:5432 user
postgres), queues an export, then, in a fresh child process so that loading the school does not count,
builds it as the worker of `gateway serve` does (`exports.build.build_next`) and downloads it
(`exports.download`), hashing the stream. Prints the seconds of each, the zip's size and chunks, and the
child's resident set before and its peak after (`resource.getrusage`); `--tracemalloc` also the peak of
Python's own allocations during both (slower): the export itself should add little, however large the
school.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from bench.common import bench_database
from gateway.db import migrations
from gateway.db.base import utcnow
from gateway.db.engine import create_engine
from gateway.exports.build import build_next
from gateway.exports.download import hand_out, stream
from gateway.exports.models import Export
from gateway.exports.service import start_export
from gateway.keys.keyring import Keyring
from gateway.mis.demo_school import load_demo_school
from gateway.mis.synthetic import generate_school
from gateway.settings import Settings

TODAY = date(2027, 7, 16)  # the end of the summer term: a whole school year of attendance before it
ISSUER = "https://gateway.example"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def rss_mib() -> float:
    """The resident set now (Linux), beside the peak: the peak before a build may be the imports'."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def prepare(url: str, master_key: bytes, students: int, days: int) -> tuple[uuid.UUID, dict[str, int]]:
    """Load the school and queue its export: the export's id and the records loaded per resource."""
    engine = create_engine(Settings(database_url=url))
    try:
        await migrations.upgrade(engine)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        generated = generate_school(7, students=students, today=TODAY, attendance_days=days)
        loaded = await load_demo_school(sessions, Keyring(master_key), generated, today=TODAY)
        async with sessions() as session, session.begin():
            export = await start_export(session, uuid.UUID(loaded.school_id), actor="operator", now=utcnow())
        return export.id, dict(loaded.counts)
    finally:
        await engine.dispose()


async def measure(url: str, master_key: bytes, *, trace: bool) -> dict[str, Any]:
    """Build the queued export, then download it; in the child process. `trace`: also the peak of Python's
    own allocations during the build and the download (`tracemalloc`, which slows both)."""
    engine = create_engine(Settings(database_url=url))
    keyring = Keyring(master_key)
    try:
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        async with sessions() as session:  # connect first: the baseline includes the driver
            await session.get(Export, uuid.uuid4())
        before, rss_before = peak_rss_mib(), rss_mib()
        if trace:
            tracemalloc.start()
        started = time.perf_counter()
        export_id = await build_next(sessions, keyring, issuer=ISSUER)
        built = time.perf_counter() - started
        assert export_id is not None, "no export was queued"
        after_build = peak_rss_mib()
        async with sessions() as session, session.begin():
            row = await session.get(Export, export_id)
            assert row is not None
            assert row.state == "ready", row.failure
            handout = await hand_out(session, row.school_id, export_id, actor="operator", now=utcnow())
        digest = hashlib.sha256()
        size = 0
        started = time.perf_counter()
        async for data in stream(sessions, keyring, handout):
            digest.update(data)
            size += len(data)
        downloaded = time.perf_counter() - started
        assert digest.hexdigest() == handout.sha256
        traced = {}
        if trace:
            traced = {"python_heap_peak_mib": round(tracemalloc.get_traced_memory()[1] / 2**20, 1)}
            tracemalloc.stop()
        return {
            "build_seconds": round(built, 2),
            "download_seconds": round(downloaded, 2),
            "zip_bytes": size,
            "chunks": handout.chunk_count,
            "lines": row.records_total,
            "rss_mib_before": round(rss_before, 1),
            "peak_rss_mib_before": round(before, 1),
            "peak_rss_mib_after_build": round(after_build, 1),
            "peak_rss_mib_after_download": round(peak_rss_mib(), 1),
            **traced,
        }
    finally:
        await engine.dispose()


def run(url: str, master_key: bytes, students: int, days: int, *, trace: bool) -> dict[str, Any]:
    _export_id, counts = asyncio.run(prepare(url, master_key, students, days))
    child = subprocess.run(
        [sys.executable, "-m", "bench.export", "--measure", url, *(["--tracemalloc"] if trace else [])],
        env={**os.environ, "BENCH_EXPORT_KEY": base64.b64encode(master_key).decode()},
        capture_output=True,
        text=True,
        check=True,
    )
    return {"records": sum(counts.values()), **json.loads(child.stdout)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--days", type=int, default=190, help="school days of attendance")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python's allocations")
    parser.add_argument("--measure", metavar="URL", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.measure:
        key = base64.b64decode(os.environ["BENCH_EXPORT_KEY"])
        print(json.dumps(asyncio.run(measure(args.measure, key, trace=args.tracemalloc))))
        return
    master_key = os.urandom(32)
    print(f"{platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    if args.postgres:
        with bench_database() as url:
            result = run(url, master_key, args.students, args.days, trace=args.tracemalloc)
    else:
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
            result = run(url, master_key, args.students, args.days, trace=args.tracemalloc)
    kind = "PostgreSQL" if args.postgres else "SQLite"
    print(f"{kind}: {args.students} pupils, {args.days} days of attendance, {result['records']} records")
    for name, value in result.items():
        print(f"  {name}: {value}")


if __name__ == "__main__":
    main()
