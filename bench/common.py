"""Shared bench plumbing: a throwaway PostgreSQL database, a `gateway serve` process, wrk."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession
from tests.support.databases import postgres_admin_url, throwaway_postgres, wait_for_postgres
from tests.support.server import RunningServer, free_port, launch

from gateway.apps import service as apps
from gateway.apps.models import App, AuthMethod
from gateway.apps.validation import AppDraft
from gateway.db import migrations
from gateway.db.engine import create_engine
from gateway.developers import service as developers
from gateway.keys.keyring import Keyring
from gateway.settings import Settings

WRK_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WRK_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True)
    subprocess.run(
        [*sudo, "apt-get", "install", "-y", "-qq", "wrk"],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
    found = shutil.which("wrk")
    if not found:
        sys.exit("wrk could not be installed")
    return found


NON_2XX = "Non-2xx or 3xx responses"


def run_wrk(
    url: str, *, seconds: int, connections: int, threads: int = 1, options: Sequence[str] = ()
) -> WrkResult:
    """wrk against `url` (`options`: e.g. `-H` headers or `-s` a Lua script), refusing a run that saw a
    non-2xx answer, a socket error or no request at all: its figures would be meaningless."""
    command = [ensure_wrk(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", *options]
    output = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout
    if NON_2XX in output or "Socket errors" in output:
        sys.exit(f"wrk saw errors; the figures would be meaningless:\n{output}")
    rps = WRK_RPS.search(output)
    if rps is not None and float(rps.group(1)) == 0:
        sys.exit(f"wrk completed no request:\n{output}")
    latencies = {match[0]: _to_ms(float(match[1]), match[2]) for match in WRK_LATENCY.findall(output)}
    if rps is None or set(latencies) != {"50", "99"}:
        sys.exit(f"could not read wrk's output:\n{output}")
    return WrkResult(float(rps.group(1)), latencies["50"], latencies["99"])


def lua_post(body: str, authorization: str) -> str:
    """A wrk script sending `body` as a form with an `Authorization` header."""
    return (
        'wrk.method = "POST"\n'
        f"wrk.body = {lua_string(body)}\n"
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        f"{lua_header('Authorization', authorization)}"
    )


def lua_header(name: str, value: str) -> str:
    """A wrk script line setting a request header."""
    return f"wrk.headers[{lua_string(name)}] = {lua_string(value)}\n"


def lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _to_ms(value: float, unit: str) -> float:
    return {"us": value / 1000, "ms": value, "s": value * 1000}[unit]


@contextmanager
def bench_database() -> Iterator[str]:
    """A migrated throwaway PostgreSQL database for one bench run."""
    loop = asyncio.new_event_loop()
    admin = postgres_admin_url()
    loop.run_until_complete(wait_for_postgres(admin, seconds=30))
    context = throwaway_postgres(admin)
    url = loop.run_until_complete(context.__aenter__())
    try:
        engine = create_engine(Settings(database_url=url))
        loop.run_until_complete(migrations.upgrade(engine))
        loop.run_until_complete(engine.dispose())
        yield url
    finally:
        loop.run_until_complete(context.__aexit__(None, None, None))
        loop.close()


@contextmanager
def serve(
    database_url: str, master_key: str, workers: int, *, env: Mapping[str, str] | None = None
) -> Iterator[RunningServer]:
    """`gateway serve --workers N` as shipped (default settings, INFO logging, here to a file a deployment's
    log collector would read), with `env` added (a bench raises a rate limit, never turns a check off)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = {
        "GATEWAY_DATABASE_URL": database_url,
        "GATEWAY_MASTER_KEY": master_key,
        "GATEWAY_ISSUER": base_url,
        **(env or {}),
    }
    command = [sys.executable, "-m", "gateway", "serve", "--port", str(port), "--workers", str(workers)]
    with (
        tempfile.TemporaryDirectory() as logs,
        launch(command, env=settings, health=f"{base_url}/healthz", log=Path(logs) / "gateway.log") as server,
    ):
        yield server


async def register_bench_app(
    session: AsyncSession,
    keyring: Keyring,
    *,
    name: str,
    description: str,
    required_scopes: str,
    optional_scopes: str = "",
    developer_email: str = "bench@bench-apps.example.org",
) -> tuple[App, str]:
    """A bench developer and one confidential app (client_secret_basic); returns the app and its secret."""
    developer, _row, _key = await developers.create_developer(
        session, keyring, name="Bench Apps Ltd", email=developer_email
    )
    draft = AppDraft(
        name=name,
        description=description,
        redirect_uris=("https://bench.example.com/callback",),
        required_scopes=required_scopes,
        optional_scopes=optional_scopes,
        token_endpoint_auth_method=AuthMethod.CLIENT_SECRET_BASIC,
        privacy_policy_url="https://bench.example.com/privacy",
        support_url="https://bench.example.com/support",
        webhook_url=None,
    )
    app, secret, _webhook_secret = await apps.register(session, keyring, developer.id, draft)
    assert secret is not None  # a confidential client
    return app, secret


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process, from /proc (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def server_processes(server_pid: int) -> list[int]:
    """The server and its worker processes."""
    return _processes(server_pid, "")[0]


def worker_pids(server_pid: int) -> list[int]:
    """uvicorn's worker processes (not multiprocessing's resource tracker); the server itself when it
    runs one worker, without a supervisor."""
    workers = [pid for pid in server_processes(server_pid)[1:] if b"spawn_main" in _cmdline(pid)]
    return workers or [server_pid]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return b""


def _processes(server_pid: int, database: str) -> tuple[list[int], list[int]]:
    """(the server and its worker processes, the PostgreSQL backends connected to the bench database)."""
    gateway, backends = [server_pid], []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if parent == server_pid:
            gateway.append(int(entry.name))
        elif database and command.startswith(b"postgres:") and f" {database} ".encode() in command:
            backends.append(int(entry.name))
    return gateway, backends


class CpuMeter:
    """CPU seconds the gateway and its PostgreSQL backends spend during a measurement: on a machine
    shared with other work, CPU per request is steadier than requests per second."""

    def __init__(self, server_pid: int, database: str) -> None:
        self.server_pid, self.database = server_pid, database

    def read(self) -> tuple[dict[int, float], dict[int, float]]:
        gateway, backends = _processes(self.server_pid, self.database)
        return {pid: cpu_seconds(pid) for pid in gateway}, {pid: cpu_seconds(pid) for pid in backends}

    @staticmethod
    def spent(before: dict[int, float], after: dict[int, float]) -> float:
        """CPU spent between two readings (a process that ended meanwhile is left out: a floor)."""
        return sum(max(0.0, after.get(pid, before.get(pid, 0.0)) - before.get(pid, 0.0)) for pid in after)
