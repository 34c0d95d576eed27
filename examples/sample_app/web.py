"""The sample app's pages (Starlette): connect a school, see what was granted, call the gateway; and
`POST /webhooks`, where the gateway's signed webhooks arrive (webhooks.py says what is done with them).

No JavaScript; every action is a link or a small form. What happens is also printed to the console,
without tokens or secrets.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from html import escape
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from examples.sample_app.credentials import DemoCredentials
from examples.sample_app.gateway import ApiResult, FlowError, GatewayClient, describe_token, student_rows
from examples.sample_app.records import RecordStore
from examples.sample_app.webhooks import WebhookReceiver

Say = Callable[[str], None]


def console(message: str) -> None:
    print(f"[sample-app] {message}", flush=True)


class SampleApp:
    """The state behind the pages: the gateway client, the records read, the webhooks received, the last
    results shown, a form token."""

    def __init__(self, client: GatewayClient, say: Say) -> None:
        self.client = client
        self.say = say
        self.records = RecordStore()
        self.webhooks = WebhookReceiver(client.credentials.webhook_secret, client.session, self.records)
        self.form_token = secrets.token_urlsafe(24)
        self.messages: list[str] = []

    def note(self, message: str) -> None:
        self.messages.append(message)
        self.say(message)

    async def tour(self) -> None:
        """What an app does once connected: list its schools, then read a few students."""
        try:
            schools = await self.client.granted_schools()
        except FlowError as exc:
            self.note(f"GET /api/v1/app/schools: {exc}")
        else:
            self._show_schools(schools)
        try:
            students = await self.client.students(limit=5)
        except FlowError as exc:
            self.note(f"GET /api/v1/students: {exc}")
        else:
            self._show_students(students)

    def _show_schools(self, result: ApiResult) -> None:
        if not result.ok:
            self.note(f"GET /api/v1/app/schools answered {result.status}")
            return
        schools = result.body.get("schools", []) if isinstance(result.body, dict) else []
        self.note(f"GET /api/v1/app/schools: {len(schools)} school(s) have granted this app")
        for school in schools:
            self.note(f"  {school.get('name')} (URN {school.get('urn')}): {school.get('scope')}")

    def _show_students(self, result: ApiResult) -> None:
        if result.status == 404:
            self.note("GET /api/v1/students: the data API is not available yet (404)")
            return
        if not result.ok:
            self.note(f"GET /api/v1/students answered {result.status}")
            return
        rows = student_rows(result.body)
        if self.client.session.school_id is not None:  # what the app holds: the pupils it read last
            self.records.keep(self.client.session.school_id, "students", rows, replace=True)
        self.note(f"GET /api/v1/students?limit=5: {len(rows)} record(s), with only the granted fields")
        for row in rows:  # the page shows the records held (below), the console what was read
            self.say("  " + _record(row))


def _record(row: dict[str, Any]) -> str:
    return json.dumps(row, sort_keys=True, default=str)[:300]


def _page(state: SampleApp, title: str, body: str) -> HTMLResponse:
    credentials = state.client.credentials
    token = describe_token(state.client.session.token)
    if token:
        status = (
            f"<p>Connected. Granted scopes: <code>{escape(token['scope'])}</code>; "
            f"access token expires in {escape(str(token['expires_in']))} s; "
            f"refresh token: {'yes' if token['has_refresh_token'] else 'no'}.</p>"
        )
        hidden = f'<input type="hidden" name="form_token" value="{escape(state.form_token)}">'
        actions = "".join(
            f'<form method="post" action="{path}">{hidden}<button type="submit">{label}</button></form>'
            for path, label in (
                ("/call", "Call the API again"),
                ("/refresh", "Refresh token"),
                ("/revoke", "Revoke (RFC 7009)"),
                ("/disconnect", "Disconnect from the school"),
            )
        )
    else:
        status, actions = "<p>No school connected.</p>", ""
    log = "".join(f"<li><code>{escape(message)}</code></li>" for message in state.messages[-40:])
    held = "".join(
        f"<li><code>{escape(_record(record))}</code></li>"
        for record in state.records.records(credentials.school_id, "students")
    )
    received = "".join(
        f"<li><code>{escape(hook.type)}</code> ({escape(hook.webhook_id)}): {escape(hook.summary)}</li>"
        for hook in reversed(state.webhooks.received)
    )
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem}}
form{{display:inline-block;margin-right:.5rem}}code{{white-space:pre-wrap}}</style></head>
<body>
<h1>{escape(title)}</h1>
{body}
<h2>Gateway</h2>
<p>Issuer <code>{escape(credentials.issuer)}</code>, school <code>{escape(credentials.school_id)}</code>,
client <code>{escape(credentials.client_id)}</code>.</p>
<p>Asks for <code>{escape(credentials.scope)}</code>. Receives webhooks at
<code>{escape(credentials.webhook_url)}</code>.</p>
<p><a href="/connect">Connect a school</a> (sign in as <code>{escape(credentials.admin_email)}</code>;
the password is in the credentials file).</p>
{status}
{actions}
<h2>Records held</h2>
<p>The app holds {state.records.count(credentials.school_id)} record(s) of the school: the pupils it read
last, until the school says by webhook to delete them or some of their fields.</p>
{f"<ul>{held}</ul>" if held else ""}
<h2>Webhooks received</h2>
{f"<ol>{received}</ol>" if received else "<p>None yet.</p>"}
<h2>What happened</h2>
<ol>{log}</ol>
</body></html>"""
    return HTMLResponse(html)


def create_app(
    credentials: DemoCredentials, *, say: Say = console, transport: httpx.AsyncBaseTransport | None = None
) -> Starlette:
    client = GatewayClient(credentials, transport=transport)
    state = SampleApp(client, say)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await client.aclose()

    async def home(_request: Request) -> Response:
        return _page(state, "Sample app", "<p>A third-party app that asks a school for its data.</p>")

    async def connect(_request: Request) -> Response:
        try:
            url = await client.authorization_url()
        except FlowError as exc:
            state.note(str(exc))
            return _page(state, "Cannot connect", f"<p>{escape(str(exc))}</p>")
        state.note("sending the admin to the gateway's /oauth/authorize (PKCE S256, state, school_id)")
        return RedirectResponse(url, status_code=303)

    async def callback(request: Request) -> Response:
        params = dict(request.query_params)
        try:
            token = await client.finish_authorization(params)
        except FlowError as exc:
            state.note(str(exc))
            return _page(state, "Not connected", f"<p>{escape(str(exc))}</p>")
        state.note(f"connected: granted scopes {describe_token(token)['scope']!r}")
        await state.tour()
        return RedirectResponse("/", status_code=303)

    def action(run: Callable[[], Awaitable[None]]) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            form = await request.form()
            presented = form.get("form_token")
            if not isinstance(presented, str) or not hmac.compare_digest(presented, state.form_token):
                return HTMLResponse("Form expired: go back and try again.", status_code=403)
            try:
                await run()
            except FlowError as exc:
                state.note(str(exc))
            return RedirectResponse("/", status_code=303)

        return handle

    async def refresh() -> None:
        token = await client.refresh()
        state.note(
            f"refreshed: a new access token (and refresh token); scopes {describe_token(token)['scope']!r}"
        )

    async def revoke() -> None:
        await client.revoke()
        state.note("revoked the refresh token (RFC 7009): its whole family ends")
        students = await client.students(limit=1)
        if students.status == 404:
            state.note("the data API is not available yet, so the revoked access token cannot be tried")
        else:
            state.note(f"the old access token now gets {students.status} from GET /api/v1/students")
        client.session.token = None

    async def disconnect() -> None:
        result = await client.disconnect()
        state.note(f"POST /api/v1/app/disconnect answered {result.status}")

    async def call() -> None:
        await state.tour()

    async def webhooks(request: Request) -> Response:
        outcome = state.webhooks.receive(await request.body(), request.headers)
        state.note(outcome.message)
        return PlainTextResponse("ok" if outcome.status < 400 else "refused", status_code=outcome.status)

    routes = [
        Route("/", home),
        Route("/connect", connect),
        Route("/callback", callback),
        Route("/refresh", action(refresh), methods=["POST"]),
        Route("/revoke", action(revoke), methods=["POST"]),
        Route("/disconnect", action(disconnect), methods=["POST"]),
        Route("/call", action(call), methods=["POST"]),
        Route("/webhooks", webhooks, methods=["POST"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.sample = state
    return app
