"""Every kind of credential the API takes, for one school and one app, made directly and committed.

For the tests that call every operation of the OpenAPI document authenticated (schemathesis, hostile
input): a school with its MIS school record, pupils and groups (`consent_flow.make_party`), its admin's
fully signed-in session and CSRF token, a school API key, a connector key, a developer key, the
developer's confidential app (client_secret_basic) with a live grant from the school for every scope, a
school access token and refresh token for that grant, and an app-level (client_credentials) token.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.accounts.sessions import COOKIE_NAME, Stage
from gateway.db.base import utcnow
from gateway.keys.keyring import Keyring
from gateway.manage.auth import CSRF_HEADER
from gateway.mis.ingest import apply_batch
from gateway.mis.validation import validate_batch
from gateway.scopes import SCOPE_NAMES
from gateway.tokens import issuance, refresh
from gateway.webhooks.events import WebhookEvent, ping
from gateway.webhooks.outbox import enqueue
from tests.support import grants, records
from tests.support.accounts import session_cookie
from tests.support.backchannel import basic
from tests.support.connector_keys import issue_connector_key
from tests.support.consent_flow import TODAY, make_party
from tests.support.http import bearer
from tests.support.school_keys import prefix_of

# Records the school of `issue_credentials` holds (`consent_flow.add_records`), by the data API path that
# reads one.
RECORDS = {"/api/v1/students/{record_id}": "stu-00000", "/api/v1/groups/{record_id}": "yr7"}


@dataclass(frozen=True)
class Credentials:
    school_id: uuid.UUID
    grant_id: uuid.UUID
    client_id: str
    client_secret: str
    school_key: str
    admin_cookie: str
    csrf_token: str
    developer_key: str
    connector_key: str
    school_token: str
    refresh_token: str
    app_token: str
    message_id: str  # a webhook message of the app (`…/webhook-deliveries/{message_id}`)

    @property
    def school_key_prefix(self) -> str:
        return prefix_of(self.school_key)

    @property
    def developer_key_prefix(self) -> str:
        return prefix_of(self.developer_key)

    def with_developer_key(self, key: str) -> Credentials:
        """The same, after the developer key was rotated to `key`."""
        return dataclasses.replace(self, developer_key=key)

    def school_key_headers(self) -> dict[str, str]:
        return bearer(self.school_key)

    def developer_headers(self) -> dict[str, str]:
        return bearer(self.developer_key)

    def connector_headers(self) -> dict[str, str]:
        return bearer(self.connector_key)

    def school_token_headers(self) -> dict[str, str]:
        return bearer(self.school_token)

    def app_token_headers(self) -> dict[str, str]:
        return bearer(self.app_token)

    def client_headers(self) -> dict[str, str]:
        """client_secret_basic, as the app registered."""
        return basic(self.client_id, self.client_secret)

    def resources(self, path: str) -> dict[str, str]:
        """Path parameter → what the operation at `path` may name that these credentials' school or app
        has: the app, the grant, the school API key, a record."""
        named = {
            "client_id": self.client_id,
            "grant_id": str(self.grant_id),
            "prefix": self.school_key_prefix,
            "message_id": self.message_id,
        }
        if path in RECORDS:
            named["record_id"] = RECORDS[path]
        return named

    def for_path(self, path: str, *, admin_session: bool = False) -> tuple[dict[str, str], dict[str, str]]:
        """(headers, cookies): the credential an operation at `path` takes, by its namespace (SPEC §7); on
        `/manage/v1` a school API key, or with `admin_session` the session cookie and the CSRF header."""
        if path.startswith("/manage/"):
            if admin_session:
                return {CSRF_HEADER: self.csrf_token}, {COOKIE_NAME: self.admin_cookie}
            return self.school_key_headers(), {}
        if path.startswith("/developer/"):
            return self.developer_headers(), {}
        if path.startswith("/connector/"):
            return self.connector_headers(), {}
        if path in {"/oauth/token", "/oauth/revoke", "/oauth/introspect"}:
            return self.client_headers(), {}
        if path.startswith("/api/v1/app/") and path != "/api/v1/app/disconnect":
            return self.app_token_headers(), {}  # the app's own endpoints; disconnecting is per school
        if path.startswith("/api/"):
            return self.school_token_headers(), {}
        return {}, {}


async def issue_credentials(
    session: AsyncSession, keyring: Keyring, *, issuer: str, email: str
) -> Credentials:
    """A school (its admin is `email`), an app with its live grant, and every credential; committed."""
    party = await make_party(session, keyring, email)
    assert party.secret is not None
    school_record = records.school_record(party.school.urn, name=party.school.name)
    await apply_batch(
        session, keyring, party.school, validate_batch("school", [school_record], [], today=TODAY)
    )
    connected = await grants.connect(session, party, scopes=SCOPE_NAMES)  # every resource readable
    now = utcnow()
    family = uuid.uuid4()
    school_token = await issuance.school_access_token(
        session,
        keyring,
        issuer=issuer,
        app=party.app,
        grant_id=connected.grant.id,
        school_id=party.school.id,
        family_id=family,
        scopes=connected.grant.scope_set,
        now=now,
    )
    refresh_token = refresh.new_refresh_token()
    await refresh.add_refresh_token(
        session,
        refresh_token,
        family_id=family,
        app_id=party.app.id,
        grant_id=connected.grant.id,
        school_id=party.school.id,
        scopes=connected.grant.scope_set,
        now=now,
    )
    app_token = await issuance.app_access_token(
        session, keyring, issuer=issuer, app=party.app, scopes=["school"], now=now
    )
    party.app.webhook_url = "https://hooks.example.org/gateway"  # never called: no worker runs in tests
    message = await enqueue(session, party.app.id, WebhookEvent.PING, ping(party.app.client_id), now)
    assert message is not None
    await session.commit()
    cookie, csrf_token = await session_cookie(session, party.account, Stage.FULL)
    return Credentials(
        school_id=party.school.id,
        grant_id=connected.grant.id,
        client_id=party.app.client_id,
        client_secret=party.secret,
        school_key=connected.key,
        admin_cookie=cookie,
        csrf_token=csrf_token,
        developer_key=party.developer.key,
        connector_key=await issue_connector_key(session, keyring, party.school),
        school_token=school_token.token,
        refresh_token=refresh_token,
        app_token=app_token.token,
        message_id=message.id,
    )
