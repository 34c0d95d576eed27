"""Speed as shipped: the gateway in its default settings beside a bare Starlette floor, in one run.

Run: `.venv/bin/python -m bench.speed [--seconds 15] [--warmup 3] [--connections 32] [--workers 2]
[--scaling] [--population 100000] [--profile DIR]` from the repository root. Needs PostgreSQL
(GATEWAY_TEST_POSTGRES_URL, default 127.0.0.1:5432 user postgres); installs Debian's wrk if it is missing.

1. Serves `bench.floor` (bare Starlette, fixed JSON) with uvicorn, 1 worker, and measures it.
2. Prepares a throwaway PostgreSQL database: the demo's synthetic school (1,000 pupils), its admin, a
   developer and a confidential app asking for `school groups students.basic students.demographics
   students.identifiers` (13 fields of each pupil).
3. Serves the gateway as shipped: `gateway serve --workers N` with the default settings (INFO logging to
   a file, every check on); only the per-client token and per-token API rate limits are raised so the
   load is not refused (they are still counted on every request).
4. Walks the real consent flow over HTTP with Authlib's client: authorize with PKCE, the admin signs in
   and approves on the consent page, the code is exchanged for tokens.
5. Measures, each with wrk (1 thread, N connections, a warm-up, then the timed run): `/healthz`,
   `client_credentials` tokens, introspection of the school's access token, and
   `GET /api/v1/students?limit=100` with it; prints each as a ratio of the floor, with the CPU the
   gateway's processes and the database's backends spent per request (from /proc).

`--scaling` adds the data API at `limit` 10, 100, 500 and 1,500, and at schools of 200 and 2,000 pupils
(each granted by its own admin through the same consent flow): CPU per record should stay flat.
`--population N` then adds N apps, grants and refresh-token families to the database (bulk SQL) and
measures tokens and introspection again, printing the query plans of their statements.
`--profile DIR` records a py-spy flame graph (SVG) and a top-functions table of one worker for each
gateway row.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import platform
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import async_sessionmaker
from tests.support.accounts import CSRF_FIELD
from tests.support.server import RunningServer, free_port, launch

from bench.common import (
    CpuMeter,
    bench_database,
    cpu_seconds,
    lua_header,
    lua_post,
    register_bench_app,
    run_wrk,
    serve,
    worker_pids,
)
from gateway.accounts import service as accounts
from gateway.auth.passwords import PasswordHashing
from gateway.db.engine import create_engine
from gateway.keys.keyring import Keyring
from gateway.mis.demo_school import load_demo_school
from gateway.mis.synthetic import generate_school
from gateway.schools.models import School
from gateway.settings import Settings

ROWS = ("healthz", "token", "introspect", "data")
SCOPES = "school groups students.basic students.demographics students.identifiers"
REDIRECT_URI = "https://bench.example.com/callback"
RAISED_LIMITS = {
    "GATEWAY_TOKEN_RATE_LIMIT": "100000000/minute",
    "GATEWAY_API_RATE_LIMIT": "1000000000/5minutes",
}
HEADER = (
    "| measure | requests/s | p50 ms | p99 ms | vs floor | CPU µs/request (server) "
    "| CPU µs/request (PostgreSQL) |\n|---|---:|---:|---:|---:|---:|---:|"
)


@dataclass(frozen=True)
class School_:
    school_id: str
    students: int
    admin_email: str
    password: str


@dataclass(frozen=True)
class Prepared:
    client_id: str
    client_secret: str
    schools: dict[int, School_]  # by number of pupils


@dataclass(frozen=True)
class Row:
    label: str
    url: str
    script: Path | None = None


async def prepare(database_url: str, master_key: bytes, sizes: list[int]) -> Prepared:
    """The demo school at each size, an admin with a password for each, a developer and an app."""
    engine = create_engine(Settings(database_url=database_url))
    keyring = Keyring(master_key)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    hashing = PasswordHashing()
    schools: dict[int, School_] = {}
    try:
        for seed, students in enumerate(sizes, start=1):
            generated = generate_school(seed, students=students, today=date.today(), attendance_days=0)
            loaded = await load_demo_school(sessions, keyring, generated, today=date.today())
            email, password = f"admin{seed}@bench-school.example.org", "Bench-" + secrets.token_urlsafe(18)
            async with sessions() as session, session.begin():
                school = await session.get_one(School, loaded.school_id)
                admin, _link = await accounts.create_admin(session, school, email, issuer="http://bench")
                await accounts.set_password(session, hashing, admin, password)
            schools[students] = School_(loaded.school_id, loaded.counts["students"], email, password)
        async with sessions() as session, session.begin():
            app, secret = await register_bench_app(
                session,
                keyring,
                name="Bench Reader",
                description="Reads pupils through the proxy.",
                required_scopes=SCOPES,
            )
        return Prepared(app.client_id, secret, schools)
    finally:
        await engine.dispose()


async def consent(base_url: str, prepared: Prepared, school: School_) -> dict[str, str]:
    """The authorization code flow as an app and a school admin walk it: Authlib makes the authorize URL
    (PKCE S256) and exchanges the code; the admin signs in and approves on the consent page."""
    verifier = generate_token(48)
    async with (
        AsyncOAuth2Client(
            prepared.client_id,
            prepared.client_secret,
            token_endpoint_auth_method="client_secret_basic",  # noqa: S106 (a method name)
            redirect_uri=REDIRECT_URI,
            scope=SCOPES,
            code_challenge_method="S256",
        ) as client,
        httpx.AsyncClient(base_url=base_url) as http,
    ):
        browser = Browser(http)
        url, _state = client.create_authorization_url(f"{base_url}/oauth/authorize", code_verifier=verifier)
        asked = await browser.get(url)
        consent_path = asked.headers["location"]
        page = await browser.get(consent_path)
        if page.status_code == 303:  # signed out: the sign-in page, back to the consent page after
            sign_in = await browser.get(f"/login?next={consent_path}")
            signed = await browser.post(
                "/login",
                data={
                    "email": school.admin_email,
                    "password": school.password,
                    "csrf_token": _csrf(sign_in),
                    "next": consent_path,
                },
            )
            if signed.status_code != 303:
                sys.exit(f"the admin could not sign in: {signed.status_code}")
            page = await browser.get(consent_path)
        decided = await browser.post(consent_path, data={"csrf_token": _csrf(page), "decision": "approve"})
        location = decided.headers.get("location", "")
        if not location.startswith(REDIRECT_URI):
            sys.exit(f"the consent page did not approve: {decided.status_code} {decided.text[:300]}")
        token = await client.fetch_token(
            f"{base_url}/oauth/token", authorization_response=location, code_verifier=verifier
        )
        return dict(token)


class Browser:
    """An httpx client that sends the gateway's `Secure` cookies back over plain http to 127.0.0.1, as a
    browser does for a loopback address (httpx's cookie jar, like Python's, will not)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.jar: dict[str, str] = {}

    async def get(self, url: str) -> httpx.Response:
        return await self.request("GET", url)

    async def post(self, url: str, data: dict[str, str]) -> httpx.Response:
        return await self.request("POST", url, data=data)

    async def request(self, method: str, url: str, data: dict[str, str] | None = None) -> httpx.Response:
        cookie = "; ".join(f"{name}={value}" for name, value in self.jar.items())
        response = await self.client.request(method, url, data=data, headers={"cookie": cookie})
        self.jar.update(response.cookies.items())
        return response


def _csrf(page: httpx.Response) -> str:
    match = CSRF_FIELD.search(page.text)
    if match is None:
        sys.exit(f"no csrf_token on the page ({page.status_code})")
    return match.group(1)


@contextmanager
def floor_server() -> Iterator[RunningServer]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "bench.floor:app", "--port", str(port), "--workers", "1"]
    command += ["--no-access-log", "--log-level", "warning"]
    with launch(command, env={}, health=f"http://127.0.0.1:{port}/") as server:
        yield server


class Measure:
    """wrk rows against one server, with its CPU (and its database's) per request."""

    def __init__(self, args: argparse.Namespace, server: RunningServer, database: str) -> None:
        self.args, self.server = args, server
        self.meter = CpuMeter(server.process.pid, database)
        self.floor: float | None = None

    def row(self, row: Row, *, records: int = 0, profile: Path | None = None) -> float:
        options = ["-s", str(row.script)] if row.script else []
        seconds, connections = self.args.seconds, self.args.connections
        run_wrk(row.url, seconds=self.args.warmup, connections=connections, options=options)
        with ExitStack() as stack:
            if profile is not None:
                stack.enter_context(py_spy(self.server, profile, seconds))
            gateway_before, database_before = self.meter.read()
            result = run_wrk(row.url, seconds=seconds, connections=connections, options=options)
            gateway_after, database_after = self.meter.read()
        requests = result.requests_per_second * seconds
        server_cpu = 1e6 * self.meter.spent(gateway_before, gateway_after) / requests
        database_cpu = 1e6 * self.meter.spent(database_before, database_after) / requests
        self.floor = self.floor or result.requests_per_second
        rps = result.requests_per_second
        per_record = f" ({server_cpu / records:,.1f} per record)" if records else ""
        print(
            f"| {row.label} | {rps:,.0f} | {result.p50_ms:.2f} | {result.p99_ms:.2f} "
            f"| {rps / self.floor:.3f} | {server_cpu:,.0f}{per_record} | {database_cpu:,.0f} |",
            flush=True,
        )
        return rps


@contextmanager
def py_spy(server: RunningServer, profile: Path, seconds: int) -> Iterator[None]:
    """Sample one worker (the busiest) for the measured seconds."""
    target = max(worker_pids(server.process.pid), key=cpu_seconds)
    recording = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "--pid",
            str(target),
            "--duration",
            str(seconds),
            "--format",
            "raw",
            "--output",
            str(profile.with_suffix(".txt")),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(profile.with_suffix(".err")).open("wb"),
    )
    try:
        yield
    finally:
        recording.wait(timeout=seconds + 30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scaling", action="store_true")
    parser.add_argument("--population", type=int, default=0)
    parser.add_argument("--profile", type=Path, default=None)
    parser.add_argument(
        "--only", nargs="+", choices=ROWS, default=ROWS, help="measure only these gateway rows (default all)"
    )
    args = parser.parse_args()
    master_key = os.urandom(32)
    sizes = [1000, 200, 2000] if args.scaling else [1000]
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)

    print(
        f"# Speed as shipped — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, load average "
        f"{os.getloadavg()[0]:.1f} before the run"
    )
    print(
        f"wrk: 1 thread, {args.connections} connections, {args.seconds} s per row after {args.warmup} s; "
        f"gateway: `gateway serve --workers {args.workers}`, default settings (INFO logging), PostgreSQL; "
        "floor: bare Starlette, uvicorn 1 worker\n"
    )
    print(HEADER)
    with floor_server() as floor:
        floor_measure = Measure(args, floor, "")
        floor_rps = floor_measure.row(Row("bare Starlette floor (fixed JSON)", f"{floor.base_url}/"))
    with (
        bench_database() as url,
        tempfile.TemporaryDirectory() as tmp_name,
    ):
        tmp = Path(tmp_name)
        prepared = asyncio.run(prepare(url, master_key, sizes))
        with serve(url, base64.b64encode(master_key).decode(), args.workers, env=RAISED_LIMITS) as server:
            base = server.base_url
            tokens = {
                size: asyncio.run(consent(base, prepared, school))
                for size, school in prepared.schools.items()
            }
            basic = (
                "Basic "
                + base64.b64encode(f"{prepared.client_id}:{prepared.client_secret}".encode()).decode()
            )
            token_lua, introspect_lua = tmp / "token.lua", tmp / "introspect.lua"
            token_lua.write_text(lua_post(urlencode({"grant_type": "client_credentials"}), basic))
            introspect_lua.write_text(lua_post(urlencode({"token": tokens[1000]["access_token"]}), basic))
            measure = Measure(args, server, make_url(url).database or "")
            measure.floor = floor_rps

            def profile(name: str) -> Path | None:
                return args.profile / name if args.profile else None

            token_row = Row("`client_credentials` token", f"{base}/oauth/token", token_lua)
            introspect_row = Row(
                "introspection (live school token)", f"{base}/oauth/introspect", introspect_lua
            )
            if "healthz" in args.only:
                measure.row(Row("gateway `/healthz`", f"{base}/healthz"), profile=profile("healthz"))
            if "token" in args.only:
                measure.row(token_row, profile=profile("token"))
            if "introspect" in args.only:
                measure.row(introspect_row, profile=profile("introspect"))
            data_rows: list[tuple[str, int, int]] = [("students", 1000, 100)] if "data" in args.only else []
            if args.scaling:
                data_rows += [("students", 1000, limit) for limit in (10, 500, 1500)]
                data_rows += [("students", size, 100) for size in (200, 2000)]
            for resource, size, limit in data_rows:
                token = tokens[size]["access_token"]
                bearer_lua = tmp / f"bearer-{size}.lua"
                bearer_lua.write_text(lua_header("Authorization", f"Bearer {token}"))
                records = min(limit, prepared.schools[size].students)
                measure.row(
                    Row(
                        f"`GET /api/v1/{resource}?limit={limit}` ({size:,} pupils; {records:,} records)",
                        f"{base}/api/v1/{resource}?limit={limit}",
                        bearer_lua,
                    ),
                    records=records,
                    profile=profile(f"data-{size}-{limit}") if (size, limit) == (1000, 100) else None,
                )
            if args.population:
                from bench.population import populate, query_plans

                added = asyncio.run(populate(url, prepared.schools[1000].school_id, args.population))
                print(f"\nAdded {added}; again:\n")
                print(HEADER)
                measure.row(token_row)
                measure.row(introspect_row)
                print()
                print(asyncio.run(query_plans(url, prepared.client_id, tokens[1000]["access_token"])))


if __name__ == "__main__":
    main()
