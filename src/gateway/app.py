"""`create_app(settings)`: the whole application, readable top to bottom."""

from __future__ import annotations

import asyncio
import functools
import gc
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from gateway import __version__
from gateway.access_log.router import router as access_log_router
from gateway.accounts.pages import router as account_pages
from gateway.accounts.reset_requests import answer_reset_requests
from gateway.app_api.receipts_router import router as app_receipts_router
from gateway.app_api.router import router as app_api_router
from gateway.apps.router import router as apps_router
from gateway.audit.router import router as audit_log_router
from gateway.auth.passwords import PasswordHashing
from gateway.connector.router import router as connector_router
from gateway.connector.schemas import record_schemas
from gateway.consent.pages import router as consent_pages
from gateway.consent.receipts_router import router as grant_receipts_router
from gateway.dashboard.deletion import router as deletion_pages
from gateway.dashboard.history import router as dashboard_history
from gateway.dashboard.pages import router as dashboard_pages
from gateway.dashboard.pupils import router as pupil_pages
from gateway.dashboard.settings import router as settings_pages
from gateway.dashboard.support import router as support_pages
from gateway.data_api.router import router as data_api_router
from gateway.db.base import utcnow
from gateway.db.migrations import head_revision
from gateway.db.session import Database
from gateway.developers.router import router as developer_router
from gateway.email.transports import transport_from_settings
from gateway.email.worker import OutboxWorker
from gateway.erasure.report import purged_by_rule
from gateway.erasure.router import router as deletions_router
from gateway.exports.router import router as exports_router
from gateway.exports.worker import ExportWorker
from gateway.health.router import router as health_router
from gateway.http.api_limits import ApiRateLimit
from gateway.http.body_limit import BodyLimitMiddleware
from gateway.http.error_responses import install_error_handlers
from gateway.http.rate_limits import limit_storage
from gateway.http.request_context import RequestContextMiddleware
from gateway.http.security_headers import SecurityHeadersMiddleware
from gateway.http.shutdown import Shutdown
from gateway.http.throttle import Throttle
from gateway.incidents.service import most_urgent_hours_left
from gateway.jobs.election import last_run
from gateway.jobs.retention import DEFAULT_INTERVAL as RETENTION_INTERVAL
from gateway.jobs.retention import RETENTION
from gateway.jobs.runner import JobRunner
from gateway.jobs.schedule import scheduled_jobs
from gateway.keys.keyring import Keyring
from gateway.keys.master import resolve_master_key
from gateway.manage.grants_router import router as grants_router
from gateway.manage.router import router as manage_router
from gateway.oauth.authorize import router as authorize_router
from gateway.oauth.authorize_limits import AuthorizeLimits
from gateway.oauth.client_limits import ClientRateLimit, FailedAuthentications
from gateway.oauth.introspect import router as introspect_router
from gateway.oauth.jwks import router as jwks_router
from gateway.oauth.metadata import router as metadata_router
from gateway.oauth.revoke import router as revoke_router
from gateway.oauth.token import router as token_router
from gateway.observability.logging import configure_logging
from gateway.observability.metrics import Metrics
from gateway.pupils.router import router as pupil_disclosures_router
from gateway.settings import Settings, load_settings
from gateway.support.router import router as support_router
from gateway.web.docs import mount_docs
from gateway.web.home import router as home_page
from gateway.web.templates import STATIC
from gateway.webhooks.delivery import Outbound, backlog
from gateway.webhooks.events import webhook_schemas
from gateway.webhooks.router import router as webhooks_router
from gateway.webhooks.worker import WebhookWorker

TITLE = "The gateway"
DESCRIPTION = """\
An OAuth 2 authorisation server and data proxy for UK school data.

Schools connect their MIS; apps ask for granular scopes; a school admin consents field by field and can
revoke at any moment; apps read records through a proxy that strips every field and pupil the school did
not grant. Errors outside `/oauth` are RFC 9457 `application/problem+json`.
"""

# One tag per URL namespace (SPEC §7); only those with routes are published.
NAMESPACE_TAGS: list[dict[str, str]] = [
    {"name": "oauth", "description": "The authorisation server: `/oauth/…` and `/.well-known/…`."},
    {"name": "data", "description": "The data API for apps (`/api/v1/…`), with an access token."},
    {"name": "manage", "description": "The school's API (`/manage/v1/…`): grants, logs, keys, exports."},
    {"name": "developer", "description": "The developer's API (`/developer/v1/…`): apps and webhooks."},
    {"name": "connector", "description": "MIS sync (`/connector/v1/…`), with a connector key."},
    {"name": "operations", "description": "Liveness, readiness and metrics for operators."},
]


def create_app(
    settings: Settings,
    *,
    database: Database | None = None,
    master_key: bytes | None = None,
    password_hashing: PasswordHashing | None = None,
) -> FastAPI:
    """Build the app. Pass `database` and `master_key` to share them (tests); otherwise the lifespan
    opens its own database and resolves the master key when the server starts."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.master_key is None:
            app.state.master_key = resolve_master_key(settings)
            app.state.keyring = Keyring(app.state.master_key)
        owned = database is None
        if owned:
            app.state.database = Database.from_settings(settings)
            app.state.metrics.watch_pool(app.state.database.engine)
        # Only with a database we own: a shared (test) database is one connection a background task
        # must not use. Each process runs one; on PostgreSQL they claim different messages. Before each
        # round it answers the /forgot-password requests waiting (issue 12, item 3).
        mail_worker = (
            OutboxWorker(
                app.state.database.sessionmaker,
                transport_from_settings(settings),
                interval=5.0,
                producers=[functools.partial(answer_reset_requests, issuer=settings.issuer)],
            )
            if owned
            else None
        )
        if mail_worker is not None:
            mail_worker.start()
        # The periodic jobs (the purge of expired rows, the daily audit checkpoints): every process polls,
        # one run per interval acts.
        app.state.job_runner = (
            JobRunner(app.state.database.sessionmaker, scheduled_jobs(settings, app.state.master_key))
            if owned
            else None
        )
        if app.state.job_runner is not None:
            app.state.job_runner.start()
        # Webhooks (issue 14): each process sends; on PostgreSQL they claim different messages.
        webhook_worker = (
            WebhookWorker(
                app.state.database.sessionmaker,
                app.state.keyring,
                Outbound(
                    allow_http=settings.webhooks_may_use_http,
                    allow_private=settings.webhook_allow_private,
                    allow_loopback=settings.webhooks_may_use_loopback,
                ),
                counted=lambda report: app.state.metrics.count_webhooks(
                    delivered=report.delivered, retried=report.retried, failed=report.failed
                ),
            )
            if owned
            else None
        )
        if webhook_worker is not None:
            webhook_worker.start()
        # Exports (issue 15, item 5): each process builds; on PostgreSQL they claim different exports.
        export_worker = (
            ExportWorker(app.state.database.sessionmaker, app.state.keyring, issuer=settings.issuer)
            if owned
            else None
        )
        if export_worker is not None:
            export_worker.start()
        # Serving (again): a lifespan that ended before, as an ASGI test client's does, left the app
        # marked as shutting down.
        app.state.shutdown = Shutdown(settings.shutdown_drain_seconds)
        if owned:
            # A serving process: what lives as long as the process (modules, classes, the schema and the
            # settings, ~all the objects so far) leaves the cyclic collector's scans, which otherwise
            # walk it again and again while a large page allocates its records (-35 % CPU for 1,500).
            gc.collect()
            gc.freeze()
        try:
            # SIGTERM: readiness fails at once, serving goes on for the drain, then uvicorn shuts down.
            with app.state.shutdown.draining_on_signals(asyncio.get_running_loop()):
                yield
        finally:
            app.state.shutdown.begin()
            background = [
                worker
                for worker in (mail_worker, app.state.job_runner, webhook_worker, export_worker)
                if worker is not None
            ]
            await asyncio.gather(*(worker.stop() for worker in background))
            if owned:
                await app.state.database.dispose()

    app = FastAPI(
        title=TITLE,
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_tags=NAMESPACE_TAGS,
    )
    app.state.settings = settings
    app.state.master_key = master_key
    app.state.keyring = Keyring(master_key) if master_key is not None else None
    app.state.password_hashing = password_hashing or PasswordHashing()
    limits = limit_storage(settings.redis_url)
    app.state.throttle = Throttle(limits)
    app.state.token_rate_limit = ClientRateLimit(settings.token_rate_limit, limits)
    app.state.client_auth_failures = FailedAuthentications(settings.client_auth_failure_limit, limits)
    app.state.api_rate_limit = ApiRateLimit(settings.api_rate_limit, limits)
    app.state.authorize_limits = AuthorizeLimits(
        per_address=settings.authorize_address_rate_limit,
        per_client=settings.authorize_client_rate_limit,
        storage=limits,
    )
    app.state.job_runner = None
    app.state.shutdown = Shutdown(settings.shutdown_drain_seconds)
    app.state.head_revision = head_revision()
    app.state.metrics = Metrics()
    if database is not None:
        app.state.database = database
        app.state.metrics.watch_pool(database.engine)

    async def webhook_backlog(metrics: Metrics) -> None:
        async with app.state.database.sessionmaker() as session:
            pending, oldest = await backlog(session, utcnow())
        metrics.webhook_pending.set(pending)
        metrics.webhook_oldest.set(oldest)

    app.state.metrics.before_scrape(webhook_backlog)

    async def retention_report(metrics: Metrics) -> None:
        sessions = app.state.database.sessionmaker
        last = await last_run(sessions, RETENTION)
        metrics.retention_last_run.set(last.timestamp() if last else 0)
        upcoming = (last + RETENTION_INTERVAL) if last else utcnow()
        metrics.retention_next_run.set(upcoming.timestamp())
        async with sessions() as session:
            for rule, purged in (await purged_by_rule(session)).items():
                metrics.retention_purges.labels(rule).set(purged.purges)
                metrics.retention_purged_rows.labels(rule).set(purged.rows)

    app.state.metrics.before_scrape(retention_report)

    async def incident_clock(metrics: Metrics) -> None:
        async with app.state.database.sessionmaker() as session:
            hours = await most_urgent_hours_left(session, now=utcnow())
        metrics.incident_hours_left.set(math.inf if hours is None else hours)

    app.state.metrics.before_scrape(incident_clock)

    install_error_handlers(app)
    # The hottest routes first: FastAPI tries routes in order, each at some cost (liveness probes are
    # the most frequent request of all).
    app.include_router(health_router)
    app.include_router(token_router)
    app.include_router(revoke_router)
    app.include_router(introspect_router)
    app.include_router(data_api_router)
    app.include_router(connector_router)
    app.include_router(manage_router)
    app.include_router(developer_router)
    app.include_router(apps_router)
    app.include_router(webhooks_router)
    app.include_router(account_pages)
    app.include_router(jwks_router)
    app.include_router(metadata_router)
    app.include_router(authorize_router)
    app.include_router(consent_pages)
    app.include_router(app_api_router)
    app.include_router(grants_router)
    app.include_router(grant_receipts_router)  # after the routers whose paths it extends
    app.include_router(app_receipts_router)
    app.include_router(access_log_router)
    app.include_router(audit_log_router)
    app.include_router(exports_router)
    app.include_router(pupil_disclosures_router)
    app.include_router(deletions_router)
    app.include_router(support_router)
    app.include_router(dashboard_pages)
    app.include_router(dashboard_history)
    app.include_router(pupil_pages)
    app.include_router(deletion_pages)
    app.include_router(settings_pages)
    app.include_router(support_pages)
    app.include_router(home_page)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    mount_docs(app, title=TITLE)

    # Outermost last: security headers wrap everything, including the last-resort 500.
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        prefix_limits={"/connector/": settings.connector_max_body_bytes},
    )
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    app.add_middleware(SecurityHeadersMiddleware, https=settings.issuer.startswith("https://"))

    finish_openapi(app)
    return app


def finish_openapi(app: FastAPI) -> None:
    """Describe each namespace that has operations (and no other), and every connector record schema."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        used = {
            tag for path in schema["paths"].values() for op in path.values() for tag in op.get("tags", ())
        }
        schema["tags"] = [tag for tag in NAMESPACE_TAGS if tag["name"] in used]
        components = dict(schema["components"]["schemas"])
        for extra in (record_schemas(), webhook_schemas()):
            clashes = sorted(name for name in extra if components.get(name, extra[name]) != extra[name])
            if clashes:  # two different models under one name: one would silently replace the other
                raise RuntimeError(f"OpenAPI component names used twice: {', '.join(clashes)}")
            components.update(extra)
        schema["components"]["schemas"] = dict(sorted(components.items()))
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (each worker process builds its own app from the environment)."""
    settings = load_settings()
    configure_logging(settings.log_level)
    return create_app(settings)
