"""Webhooks: time from a revoke's commit to the receiver's verified delivery, and deliveries per second.

Run: `.venv/bin/python -m bench.webhooks [--revokes 200] [--messages 3000] [--workers 2]` from the
repository root. Needs PostgreSQL (GATEWAY_TEST_POSTGRES_URL, default 127.0.0.1:5432 user postgres).
Prepares, in a throwaway database, one school with an admin and a school API key, and `--revokes` apps,
each with a live grant at the school and its webhook URL pointing at a receiver this script runs on
127.0.0.1 (uvicorn in a thread; it verifies every delivery with the `standardwebhooks` library and each
app's own secret, and notes when it arrived). Then `gateway serve` with the given workers and
`GATEWAY_WEBHOOK_ALLOW_PRIVATE=true` (the receiver is on loopback), and:

1. **Latency**: revokes every grant through `POST /manage/v1/grants/{id}/revoke`, four at a time; for each
   `grant.revoked` the time from the grant's `revoked_at` (set in the transaction that commits the revoke)
   to its verified arrival. The process that handled the revoke is woken by its commit; the others poll
   every second.
2. **Throughput**: queues `--messages` pings for one app in one transaction (from this script, so no worker
   is woken: the first poll finds them), then the rate from that commit to the last verified arrival.

Every delivery must verify and arrive once (the script stops otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import statistics
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import uvicorn
from sqlalchemy.ext.asyncio import async_sessionmaker
from standardwebhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tests.support.server import free_port

from bench.common import bench_database, register_bench_app, serve
from gateway.accounts.service import create_admin
from gateway.consent.models import Grant
from gateway.db.base import utcnow
from gateway.db.engine import create_engine
from gateway.keys.keyring import Keyring
from gateway.manage import api_keys
from gateway.manage.principal import SchoolPrincipal
from gateway.schools.service import create_school
from gateway.settings import Settings
from gateway.webhooks import secrets
from gateway.webhooks.events import WebhookEvent
from gateway.webhooks.outbox import enqueue

SCOPES = "school groups students.basic"


@dataclass
class Receiver:
    """Verified arrivals: webhook-id -> (arrival time, body)."""

    port: int
    secrets: dict[str, Webhook] = field(default_factory=dict)  # client id -> verifier
    arrivals: dict[str, tuple[float, bytes]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def url(self, client_id: str) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/{client_id}"


def start_receiver() -> tuple[Receiver, uvicorn.Server]:
    receiver = Receiver(free_port())

    async def receive(request: Request) -> Response:
        body = await request.body()
        arrived = time.time()
        client_id = request.path_params["client_id"]
        try:
            receiver.secrets[client_id].verify(body, dict(request.headers))
        except Exception as exc:
            receiver.problems.append(f"{client_id}: {type(exc).__name__}")
            return Response(status_code=400)
        message_id = request.headers["webhook-id"]
        if message_id in receiver.arrivals:
            receiver.problems.append(f"{message_id} arrived twice")
        receiver.arrivals[message_id] = (arrived, body)
        return Response(status_code=204)

    app = Starlette(routes=[Route("/webhooks/{client_id}", receive, methods=["POST"])])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=receiver.port, log_level="warning", lifespan="off")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return receiver, server


@dataclass(frozen=True)
class Prepared:
    api_key: str
    grant_ids: list[str]
    first_app_id: str


async def prepare(
    database_url: str, master_key: bytes, issuer: str, apps: int, receiver: Receiver
) -> Prepared:
    engine = create_engine(Settings(database_url=database_url))
    keyring = Keyring(master_key)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        async with sessions() as session, session.begin():
            school = await create_school(
                session,
                urn="900001",
                name="Bench Academy",
                la_code="201",
                establishment_number="4001",
                phase="secondary",
            )
            admin, _link = await create_admin(
                session, school, "head@bench-academy.example.org", issuer=issuer
            )
            _row, key = await api_keys.create_key(
                session, keyring, SchoolPrincipal(school.id, admin_id=admin.id), "Bench"
            )
            grant_ids, first = [], ""
            for n in range(apps):
                app, _client_secret = await register_bench_app(
                    session,
                    keyring,
                    name=f"Bench App {n}",
                    description="Receives webhooks.",
                    required_scopes=SCOPES,
                    developer_email=f"bench{n}@bench-apps.example.org",
                )
                app.webhook_url = receiver.url(app.client_id)
                receiver.secrets[app.client_id] = Webhook(
                    await secrets.rotate(session, keyring, app.id, utcnow())
                )
                grant = Grant(school_id=school.id, app_id=app.id, scopes=SCOPES)
                session.add(grant)
                await session.flush()
                grant_ids.append(str(grant.id))
                first = first or str(app.id)
        return Prepared(key, grant_ids, first)
    finally:
        await engine.dispose()


async def revoke_all(base_url: str, prepared: Prepared) -> None:
    gate = asyncio.Semaphore(4)
    async with httpx.AsyncClient(
        base_url=base_url, headers={"authorization": f"Bearer {prepared.api_key}"}
    ) as client:

        async def revoke(grant_id: str) -> None:
            async with gate:
                answer = await client.post(f"/manage/v1/grants/{grant_id}/revoke", timeout=30)
                answer.raise_for_status()

        await asyncio.gather(*(revoke(grant_id) for grant_id in prepared.grant_ids))


async def queue_pings(database_url: str, app_id: str, count: int) -> float:
    engine = create_engine(Settings(database_url=database_url))
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            for n in range(count):
                await enqueue(session, uuid.UUID(app_id), WebhookEvent.PING, {"n": n}, utcnow())
            await session.commit()
            return time.time()
    finally:
        await engine.dispose()


def wait_for(receiver: Receiver, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while len(receiver.arrivals) < count:
        if receiver.problems:
            raise SystemExit(f"deliveries failed: {receiver.problems[:5]}")
        if time.monotonic() > deadline:
            raise SystemExit(
                f"only {len(receiver.arrivals)} of {count} deliveries arrived in {timeout:.0f} s"
            )
        time.sleep(0.05)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revokes", type=int, default=200)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    master_key = os.urandom(32)
    os.environ["GATEWAY_WEBHOOK_ALLOW_PRIVATE"] = "true"  # `serve` passes the environment on
    print(
        f"# Webhooks — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {args.workers} workers, PostgreSQL\n"
    )
    receiver, server = start_receiver()
    try:
        with (
            bench_database() as url,
            serve(url, base64.b64encode(master_key).decode(), args.workers) as gateway,
        ):
            prepared = asyncio.run(prepare(url, master_key, gateway.base_url, args.revokes, receiver))
            started = time.time()
            asyncio.run(revoke_all(gateway.base_url, prepared))
            wait_for(receiver, args.revokes, timeout=120)
            revoking = time.time() - started
            latencies = []
            for arrived, body in receiver.arrivals.values():
                revoked_at = datetime.fromisoformat(
                    json.loads(body)["data"]["revoked_at"].replace("Z", "+00:00")
                )
                latencies.append((arrived - revoked_at.timestamp()) * 1000)
            print("| measure | count | p50 | p99 | max |")
            print("|---|---:|---:|---:|---:|")
            p50, p99, worst = statistics.median(latencies), percentile(latencies, 0.99), max(latencies)
            print(
                f"| revoke commit → verified `grant.revoked` (ms) | {len(latencies)} | "
                f"{p50:,.1f} | {p99:,.1f} | {worst:,.1f} |"
            )
            receiver.arrivals.clear()
            committed = asyncio.run(queue_pings(url, prepared.first_app_id, args.messages))
            wait_for(receiver, args.messages, timeout=600)
            last = max(arrived for arrived, _body in receiver.arrivals.values())
            rate = args.messages / (last - committed)
            took = last - committed
            print(
                f"\n{args.messages:,} pings queued in one transaction: all verified {took:,.1f} s after its "
                f"commit: **{rate:,.0f} deliveries/s** ({args.revokes} revokes took {revoking:,.1f} s, "
                "4 at a time, through the API)."
            )
    finally:
        server.should_exit = True


if __name__ == "__main__":
    main()
