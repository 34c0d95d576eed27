"""Account probing by timing: `/forgot-password` (and, with `--login`, `/login`) for an admin's address and
for an unknown one, median and p90 of each, in process (no network) on PostgreSQL.

Run: `.venv/bin/python -m bench.forgot_password [--requests 400] [--login]` from the repository root. The
sign-in throttle is lifted for the run (it would refuse the 31st request); the mail worker does not run,
so what is timed is the request alone. Requests alternate between the two addresses so that drift in the
machine's load falls on both. `--login` uses the production argon2id parameters (80 to 100 ms a request);
the admin's failed-attempt count is reset between requests (outside the timing) so it never locks.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import platform
import re
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
from sqlalchemy import update

from bench.common import bench_database
from gateway.accounts import service as accounts
from gateway.accounts.models import Admin
from gateway.app import create_app
from gateway.auth.passwords import PasswordHashing
from gateway.db.engine import create_engine
from gateway.db.session import Database, transaction
from gateway.http.rate_limits import limit_storage
from gateway.http.throttle import Throttle
from gateway.schools.service import create_school
from gateway.settings import Settings

ISSUER = "https://gateway.bench"
ADMIN = "head@bench-school.example.org"
UNKNOWN = "nobody@bench-school.example.org"
PASSWORD = "Bench-Lantern-4417"  # noqa: S105 - a throwaway bench account
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def seed(database: Database) -> None:
    async with transaction(database) as session:
        school = await create_school(
            session,
            urn="990001",
            name="Bench School",
            la_code="201",
            establishment_number="4001",
            phase="secondary",
        )
        admin, _link = await accounts.create_admin(session, school, ADMIN, issuer=ISSUER)
        await accounts.set_password(session, PasswordHashing(), admin, PASSWORD)


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p90 = ordered[int(len(ordered) * 0.9)]
    return f"{statistics.median(ordered) * 1000:.2f} | {p90 * 1000:.2f}"


async def measure(
    send: Callable[[str], Awaitable[httpx.Response]],
    requests: int,
    between: Callable[[], Awaitable[None]] | None = None,
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {ADMIN: [], UNKNOWN: []}
    for index in range(requests + 20):
        email = (ADMIN, UNKNOWN)[index % 2]
        if between is not None:
            await between()
        started = time.perf_counter()
        response = await send(email)
        elapsed = time.perf_counter() - started
        assert response.status_code == 303, response.status_code
        if index >= 20:  # the first few warm caches and the connection pool
            times[email].append(elapsed)
    return times


async def run(url: str, requests: int, login: bool) -> None:
    master_key = os.urandom(32)
    settings = Settings(
        environment="test",
        database_url=url,
        master_key=base64.b64encode(master_key).decode(),
        issuer=ISSUER,
    )
    database = Database(create_engine(settings))
    await seed(database)
    app = create_app(settings, database=database, master_key=master_key)
    app.state.throttle = Throttle(limit_storage(None), limit="1000000/minute")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
        page = await client.get("/forgot-password")
        match = CSRF.search(page.text)
        assert match, page.text[:200]
        token = match.group(1)

        async def forgot(email: str) -> httpx.Response:
            return await client.post("/forgot-password", data={"email": email, "csrf_token": token})

        results = {"/forgot-password": await measure(forgot, requests)}

        if login:

            async def wrong_password(email: str) -> httpx.Response:
                data = {"email": email, "password": "Not-The-Password-1", "csrf_token": token}
                return await client.post("/login", data=data)

            async def unlock() -> None:
                async with transaction(database) as session:
                    await session.execute(update(Admin).values(failed_attempts=0, locked_at=None))

            results["/login (wrong password)"] = await measure(wrong_password, requests // 2, unlock)
    await database.dispose()

    print("| form | address | requests | median ms | p90 ms |")
    print("|---|---|---:|---:|---:|")
    for form, times in results.items():
        for email, label in ((ADMIN, "an admin's"), (UNKNOWN, "unknown")):
            print(f"| `{form}` | {label} | {len(times[email])} | {summary(times[email])} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--login", action="store_true", help="also time /login with a wrong password")
    args = parser.parse_args()
    print(
        f"# Account probing by timing — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL, in process\n"
    )
    with bench_database() as url:
        asyncio.run(run(url, args.requests, args.login))


if __name__ == "__main__":
    main()
