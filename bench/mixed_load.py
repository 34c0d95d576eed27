"""Shared plumbing for the "stays up" benches (issue 18): `bench.rolling_restart`, `bench.db_restart` and
`bench.soak`.

- `prepare`: in a throwaway database, the proxy bench's synthetic school with a school access token
  (`bench.proxy.prepare`), a confidential app of its own for token requests, introspections and
  authorization requests, and sessions of a signed-in admin of the school for the consent page.
- `MixedLoad`: httpx clients sending, in turn, a `client_credentials` token request, an introspection of the
  latest token, a data API page with the school token, and an authorization request followed by the
  consent page it leads to, as the school's signed-in admin sees it (302 to `/consent/…`, then 200). Every
  request is recorded (start, kind, status, latency, the reason of a failure); optionally paced to a rate.
- Figures: p50/p99 and failures by window, as a markdown table; RSS of processes; PostgreSQL connections
  and row counts.
- Gateway processes (`gateway serve`) started and stopped by signal; HAProxy installed from Debian if
  missing, with health checks on `/readyz`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote_plus, urlencode

import httpx
from sqlalchemy import func, select, table, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bench import proxy
from bench.common import bench_database, register_bench_app
from gateway.accounts.service import create_admin
from gateway.accounts.sessions import COOKIE_NAME, Stage, open_session
from gateway.db.engine import create_engine
from gateway.keys.keyring import Keyring
from gateway.schools.models import School
from gateway.settings import Settings

REDIRECT_URI = "https://bench.example.com/callback"  # bench.common.register_bench_app's
SCOPES = "school groups students.basic"
STUDENTS = 200
DATA_PAGE = "/api/v1/students?limit=25"
# The per-client, per-token and per-address limits are raised for the runs, not removed.
RAISED_LIMITS = {
    "GATEWAY_TOKEN_RATE_LIMIT": "100000000/minute",
    "GATEWAY_API_RATE_LIMIT": "1000000000/5minutes",
    "GATEWAY_AUTHORIZE_ADDRESS_RATE_LIMIT": "100000000/minute",
    "GATEWAY_AUTHORIZE_CLIENT_RATE_LIMIT": "100000000/minute",
}
EXPECTED = {"token": 200, "introspect": 200, "data": 200, "authorize": 302, "consent": 200}
KINDS = ("token", "introspect", "data", "authorize")  # "authorize" is followed by "consent"
TIMEOUT_SECONDS = 10.0
# Rows the purge deletes once expired (gateway.jobs.purge).
PURGED_TABLES = ("authorization_requests", "authorization_codes", "refresh_tokens", "access_tokens")


@dataclass(frozen=True)
class Prepared:
    client_id: str
    client_secret: str
    school_token: str
    admin_sessions: tuple[str, ...]  # session cookies of the school's admin, one per client at most

    @property
    def basic(self) -> str:
        raw = f"{quote_plus(self.client_id)}:{quote_plus(self.client_secret)}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    def authorize_path(self) -> str:
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": SCOPES,
            "state": secrets.token_urlsafe(16),
            "code_challenge": challenge.decode(),
            "code_challenge_method": "S256",
        }
        return f"/oauth/authorize?{urlencode(query)}"


async def prepare(database_url: str, master_key: bytes, issuer: str, *, admin_sessions: int = 64) -> Prepared:
    """The proxy bench's school (STUDENTS pupils) and school token, an app of our own, and the school's
    admin signed in `admin_sessions` times (sessions opened directly, as a finished login leaves them)."""
    reader = await proxy.prepare(database_url, master_key, issuer, STUDENTS)
    engine = create_engine(Settings(database_url=database_url))
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session, session.begin():
            app, secret = await register_bench_app(
                session,
                Keyring(master_key),
                name="Stays Up",
                description="Token requests, introspections and authorization requests under load.",
                required_scopes=SCOPES,
                developer_email="stays-up@bench-apps.example.org",
            )
            school = (await session.scalars(select(School))).one()  # proxy.prepare's, the only one
            admin, _setup_link = await create_admin(
                session, school, "head@stays-up.example.org", issuer=issuer
            )
            opened = [await open_session(session, admin, Stage.FULL) for _ in range(admin_sessions)]
        return Prepared(app.client_id, secret, reader.token, tuple(each.token for each in opened))
    finally:
        await engine.dispose()


# --- The load --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sample:
    started: float  # seconds since the load began
    kind: str
    status: int  # 0: no HTTP answer
    latency_ms: float
    reason: str  # "" when the answer is the expected one
    retry_after: bool


@dataclass
class MixedLoad:
    base_url: str
    prepared: Prepared
    concurrency: int = 16
    rate: float | None = None  # requests (of the four kinds) started per second; None: as fast as answered
    samples: list[Sample] = field(default_factory=list)
    began: float = field(default_factory=time.monotonic)
    _latest_token: str | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _issued: int = 0

    def now(self) -> float:
        return time.monotonic() - self.began

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Until `stop()`: `concurrency` clients, each with its own keep-alive connection."""
        async with httpx.AsyncClient(base_url=self.base_url, timeout=TIMEOUT_SECONDS) as client:
            first = await client.post(  # not recorded: the token the first introspections look at
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                headers={"authorization": self.prepared.basic},
            )
            first.raise_for_status()
            self._latest_token = first.json()["access_token"]
        self.began = time.monotonic()
        await asyncio.gather(*(self._client(index) for index in range(self.concurrency)))

    async def _client(self, index: int) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        sessions = self.prepared.admin_sessions
        admin = {"cookie": f"{COOKIE_NAME}={sessions[index % len(sessions)]}"}
        async with httpx.AsyncClient(
            base_url=self.base_url, timeout=TIMEOUT_SECONDS, limits=limits
        ) as client:
            turn = index
            while not self._stop.is_set():
                await self._pace()
                if self._stop.is_set():
                    return
                kind = KINDS[turn % len(KINDS)]
                turn += 1
                if kind == "authorize":
                    location = await self._send(client, "authorize", "GET", self.prepared.authorize_path())
                    if location is not None and location.startswith("/consent/"):
                        await self._send(client, "consent", "GET", location, headers=admin)
                else:
                    await self._one(client, kind)

    async def _pace(self) -> None:
        if self.rate is None:
            return
        slot = self.began + self._issued / self.rate
        self._issued += 1
        wait = slot - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    async def _one(self, client: httpx.AsyncClient, kind: str) -> None:
        basic = {"authorization": self.prepared.basic}
        if kind == "token":
            await self._send(
                client, kind, "POST", "/oauth/token", data={"grant_type": "client_credentials"}, headers=basic
            )
        elif kind == "introspect":
            token = self._latest_token or ""
            await self._send(client, kind, "POST", "/oauth/introspect", data={"token": token}, headers=basic)
        else:
            bearer = {"authorization": f"Bearer {self.prepared.school_token}"}
            await self._send(client, kind, "GET", DATA_PAGE, headers=bearer)

    async def _send(
        self,
        client: httpx.AsyncClient,
        kind: str,
        method: str,
        path: str,
        *,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> str | None:
        """One request, recorded; returns the Location of a redirect."""
        started = time.monotonic()
        try:
            response = await client.request(method, path, data=data, headers=headers)
        except httpx.TimeoutException as exc:
            self._record(kind, started, 0, f"timeout ({type(exc).__name__})", False)
            return None
        except httpx.TransportError as exc:
            self._record(kind, started, 0, f"transport: {type(exc).__name__}", False)
            return None
        status = response.status_code
        reason = ""
        if status != EXPECTED[kind]:
            reason = f"{status}"
        elif kind == "token":
            self._latest_token = response.json()["access_token"]
        elif kind == "introspect" and response.json().get("active") is not True:
            reason = "introspection not active"
        self._record(kind, started, status, reason, "retry-after" in response.headers)
        location: str | None = response.headers.get("location")
        return location

    def _record(self, kind: str, started: float, status: int, reason: str, retry_after: bool) -> None:
        latency = (time.monotonic() - started) * 1000
        self.samples.append(Sample(started - self.began, kind, status, latency, reason, retry_after))


# --- Figures ---------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass(frozen=True)
class Window:
    name: str
    start: float
    end: float

    def of(self, samples: Iterable[Sample]) -> list[Sample]:
        return [sample for sample in samples if self.start <= sample.started < self.end]


def reasons(samples: Iterable[Sample]) -> str:
    counted = Counter(
        f"{sample.kind} {sample.reason}" + (" +Retry-After" if sample.retry_after else "")
        for sample in samples
        if sample.reason
    )
    return ", ".join(f"{reason}: {count}" for reason, count in counted.most_common()) or "—"


def unavailable(sample: Sample) -> bool:
    """503 with Retry-After: the answer the gateway owes a client while the database is away."""
    return sample.status == 503 and sample.retry_after


def window_table(windows: Sequence[Window], samples: Sequence[Sample]) -> str:
    """Per window: requests, rate, answers not as expected (503 + Retry-After apart), latencies, reasons."""
    lines = [
        "| window | seconds | requests | req/s | not as expected | of which 503 + Retry-After "
        "| p50 ms | p99 ms | max ms | what (kind, status or error: count) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for window in windows:
        inside = window.of(samples)
        seconds = max(window.end - window.start, 1e-9)
        rate = len(inside) / seconds
        latencies = [sample.latency_ms for sample in inside]
        failed = [sample for sample in inside if sample.reason]
        lines.append(
            f"| {window.name} | {seconds:.1f} | {len(inside):,} | {rate:.0f} | {len(failed)} "
            f"| {sum(1 for sample in failed if unavailable(sample))} | {percentile(latencies, 0.5):.1f} "
            f"| {percentile(latencies, 0.99):.1f} | {max(latencies, default=float('nan')):.0f} "
            f"| {reasons(inside)} |"
        )
    return "\n".join(lines)


def kind_table(samples: Sequence[Sample]) -> str:
    """Per kind of request: how many, p50 and p99 latency, not as expected."""
    lines = ["| request | count | p50 ms | p99 ms | not as expected |", "|---|---:|---:|---:|---:|"]
    for kind in EXPECTED:
        of_kind = [sample for sample in samples if sample.kind == kind]
        latencies = [sample.latency_ms for sample in of_kind]
        failed = sum(1 for sample in of_kind if sample.reason)
        lines.append(
            f"| {kind} | {len(of_kind):,} | {percentile(latencies, 0.5):.1f} "
            f"| {percentile(latencies, 0.99):.1f} | {failed} |"
        )
    return "\n".join(lines)


def rss_mib(pid: int) -> float:
    """Resident set of one process in MiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0.0


async def database_figures(engine: AsyncEngine) -> tuple[int, dict[str, int]]:
    """(connections to this database other than ours, rows in each of PURGED_TABLES)."""
    async with engine.connect() as connection:
        connections = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        rows = {
            name: int(await connection.scalar(select(func.count()).select_from(table(name))) or 0)
            for name in PURGED_TABLES
        }
    return int(connections or 0), rows


# --- Processes -------------------------------------------------------------------------------------------


def gateway_env(database_url: str, master_key: bytes, issuer: str, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "GATEWAY_ENVIRONMENT": "test",
        "GATEWAY_DATABASE_URL": database_url,
        "GATEWAY_MASTER_KEY": base64.b64encode(master_key).decode(),
        "GATEWAY_ISSUER": issuer,
        "GATEWAY_DATA_DIR": str(data_dir),
        **RAISED_LIMITS,
    }


def start_gateway(port: int, env: Mapping[str, str], *, workers: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--port", str(port), "--workers", str(workers)],
            env=dict(env),
            stdout=output,
            stderr=output,
        )


async def wait_until_ready(base_url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=1) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                sys.exit(f"gateway serve on {base_url} exited with {process.returncode}")
            try:
                if (await client.get(f"{base_url}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    sys.exit(f"gateway serve on {base_url} not ready within {seconds} s")


async def stop_gateway(process: subprocess.Popen[bytes], seconds: float) -> float:
    """SIGTERM, then wait for the exit (SIGKILL after `seconds`); the seconds it took."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    while process.poll() is None:
        if time.monotonic() - started > seconds:
            process.kill()
            process.wait()
            break
        await asyncio.sleep(0.05)
    return time.monotonic() - started


def ensure_haproxy() -> str:
    """Debian's haproxy, installed with apt-get if missing (as bench.common.ensure_wrk does for wrk)."""
    found = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True)
    subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "haproxy"], check=True, env=environment)
    found = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
    if not found:
        sys.exit("haproxy could not be installed")
    return found


HAPROXY_CHECK_INTERVAL_MS = 300
HAPROXY_FALL = 2
HAPROXY_RISE = 2


def haproxy_config(port: int, stats_port: int, backends: Sequence[int], *, redispatch: bool = True) -> str:
    """Round robin over `backends`, each checked on `/readyz` every 300 ms (down after 2 failures, up after
    2 successes; a check may take 2 s: without `timeout check` the interval is the timeout, and a busy
    machine's slow answer would count as a failure); with `redispatch`, a connection refused is retried on
    another server (otherwise on the same one, which fails)."""
    servers = "\n".join(
        f"    server gw{index} 127.0.0.1:{backend} check" for index, backend in enumerate(backends, 1)
    )
    return f"""global
    maxconn 4096

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout check 2s
    retries 3
    {"option redispatch" if redispatch else "no option redispatch"}

frontend gateway
    bind 127.0.0.1:{port}
    default_backend gateways

frontend stats
    bind 127.0.0.1:{stats_port}
    stats enable
    stats uri /stats

backend gateways
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter {HAPROXY_CHECK_INTERVAL_MS}ms fall {HAPROXY_FALL} rise {HAPROXY_RISE}
{servers}
"""


def start_haproxy(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            [ensure_haproxy(), "-f", str(config), "-db"], stdout=subprocess.DEVNULL, stderr=output
        )


async def haproxy_status(stats_port: int) -> dict[str, str]:
    """Each server's status in HAProxy's CSV statistics ("UP", "DOWN", "UP 1/2", …)."""
    async with httpx.AsyncClient(timeout=2) as client:
        csv = (await client.get(f"http://127.0.0.1:{stats_port}/stats;csv")).text
    status = {}
    for line in csv.splitlines()[1:]:
        columns = line.split(",")
        if len(columns) > 17 and columns[0] == "gateways" and columns[1] not in ("BACKEND", "FRONTEND"):
            status[columns[1]] = columns[17]
    return status


async def wait_for_haproxy(stats_port: int, server: str, wanted: str, seconds: float = 60) -> float:
    """Wait until HAProxy reports `server` as `wanted`; the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            if (await haproxy_status(stats_port)).get(server) == wanted:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.05)
    sys.exit(f"HAProxy did not report {server} {wanted} within {seconds} s")


# --- Running a check -------------------------------------------------------------------------------------


def run_check(
    title: str,
    setting: str,
    check: Callable[[argparse.Namespace, str, Path], Coroutine[Any, Any, int]],
    args: argparse.Namespace,
) -> NoReturn:
    """Print the heading (what, when, on what machine, `setting`), run `check` on a throwaway database
    with a scratch directory, print how long it took and exit with its status (1: a goal was missed)."""
    print(
        f"# {title} — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {setting}\n"
    )
    started = time.monotonic()
    with bench_database() as url, tempfile.TemporaryDirectory() as tmp:
        status = asyncio.run(check(args, url, Path(tmp)))
    print(f"\n({time.monotonic() - started:.0f} s in all)")
    sys.exit(status)
