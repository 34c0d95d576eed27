"""Prometheus metrics: requests by route template (never the raw path), database pool gauges, webhook
deliveries (this process's attempts by outcome; the backlog, read from the database at each scrape), and
retention (its last and next run and what it purged, by rule, read from the database at each scrape), and
the 72-hour clock of the most urgent incident (read from the database at each scrape)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine

UNMATCHED_ROUTE = "unmatched"


class Metrics:
    """One registry per app, so several apps in one process (tests) don't collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self.requests = Counter(
            "gateway_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "gateway_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )

        self.webhook_attempts = Counter(
            "gateway_webhook_deliveries",
            "Webhook delivery attempts this process made, by outcome: delivered, retried (failed, due again "
            "later), failed (given up, refused, or the endpoint disabled).",
            ["outcome"],
            registry=self.registry,
        )
        self.webhook_pending = Gauge(
            "gateway_webhook_pending_messages",
            "Webhook messages queued and not yet delivered or given up, in the whole database.",
            registry=self.registry,
        )
        self.webhook_oldest = Gauge(
            "gateway_webhook_oldest_pending_seconds",
            "Age of the oldest webhook message not yet delivered or given up (0 when none).",
            registry=self.registry,
        )
        self.retention_last_run = Gauge(
            "gateway_retention_last_run_timestamp_seconds",
            "When the retention job last ran on this database, as a Unix time (0: never).",
            registry=self.registry,
        )
        self.retention_next_run = Gauge(
            "gateway_retention_next_run_timestamp_seconds",
            "When the retention job runs next on this database, as a Unix time (at most a poll later).",
            registry=self.registry,
        )
        self.retention_purged_rows = Gauge(
            "gateway_retention_purged_rows",
            "Rows purged by retention so far in the whole database, by rule (deleted, tombstoned, resealed).",
            ["rule"],
            registry=self.registry,
        )
        self.retention_purges = Gauge(
            "gateway_retention_purges",
            "Purges retention has made so far in the whole database, by rule.",
            ["rule"],
            registry=self.registry,
        )
        self.incident_hours_left = Gauge(
            "gateway_incident_deadline_hours_left",
            "Hours left of the 72 from detection of the most urgent open incident with a school not yet "
            "notified; negative when overdue, +Inf when no incident is waiting for a notice.",
            registry=self.registry,
        )
        self._before_scrape: list[Callable[[Metrics], Awaitable[None]]] = []

    def count_webhooks(self, *, delivered: int, retried: int, failed: int) -> None:
        for outcome, count in (("delivered", delivered), ("retried", retried), ("failed", failed)):
            if count:
                self.webhook_attempts.labels(outcome).inc(count)

    def before_scrape(self, hook: Callable[[Metrics], Awaitable[None]]) -> None:
        """Run `hook(metrics)` before each scrape: gauges read from the database."""
        self._before_scrape.append(hook)

    async def refresh(self) -> None:
        for hook in self._before_scrape:
            await hook(self)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request. The labelled children are looked up once per (method, route,
        status) and kept: `labels()` hashes and locks on every call. Routes are templates and uvicorn
        accepts only known methods, so the set stays small."""
        children = self._children.get((method, route, status))
        if children is None:
            children = self._children[(method, route, status)] = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
        children[0].inc()
        children[1].observe(seconds)

    def watch_pool(self, engine: AsyncEngine) -> None:
        self.registry.register(PoolCollector(engine))


class PoolCollector(Collector):
    """Reads the SQLAlchemy pool on each scrape."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.pool: Any = engine.sync_engine.pool

    def collect(self) -> Iterator[GaugeMetricFamily]:
        readings = {
            "size": "Connections the pool keeps open.",
            "checkedout": "Connections in use.",
            "checkedin": "Idle connections in the pool.",
            "overflow": "Connections open beyond the pool size.",
        }
        for name, help_text in readings.items():
            reader = getattr(self.pool, name, None)
            if callable(reader):
                gauge = GaugeMetricFamily(f"gateway_db_pool_{name}", help_text)
                gauge.add_metric([], float(reader()))
                yield gauge
