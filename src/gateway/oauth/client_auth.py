"""Client authentication at the back-channel endpoints (RFC 6749 §2.3, §3.2.1; SPEC §1).

Three methods, the one the app registered (`token_endpoint_auth_method`, RFC 7591 §2):

- `client_secret_basic`: `Authorization: Basic base64(client_id ":" client_secret)`, each part
  form-urlencoded first (RFC 6749 §2.3.1);
- `client_secret_post`: `client_id` and `client_secret` in the form body;
- `none`: a public client sends only `client_id` in the form and proves itself with PKCE.

Refusals (RFC 6749 §5.2): two methods in one request, or a form `client_id` that contradicts the Basic
one, is `invalid_request`; everything else is 401 `invalid_client`, with `WWW-Authenticate: Basic` when
the client tried the Authorization header. An unknown client costs the same HMAC as a known one, and
every secret comparison is constant-time (`apps.credentials.secret_matches`).
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from urllib.parse import unquote_plus

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.credentials import CLIENT_ID_PREFIX, secret_matches
from gateway.apps.models import App, AuthMethod
from gateway.keys.keyring import API_KEY_HASHING_SECRET, Keyring
from gateway.oauth.errors import InvalidClient, InvalidRequest

REALM: Final = "gateway"
BASIC_CHALLENGE: Final = {"www-authenticate": f'Basic realm="{REALM}"'}
AUTHENTICATION_FAILED: Final = "Client authentication failed: unknown client or wrong secret."

_CLIENT_ID_SHAPE: Final = re.compile(re.escape(CLIENT_ID_PREFIX) + r"[A-Za-z0-9_-]{16}")
# An unknown client costs one HMAC and two comparisons, like a known one, so timing says nothing.
_DUMMY_HASH: Final = b"\x5a" * 32
_DUMMY_KEY: Final = secrets.token_bytes(32)
MAX_HEADER_LENGTH: Final = 1024
# Built once: constructing the expression per request costs more than the statement cache saves.
_FIND_APP: Final = select(App).where(App.client_id == bindparam("client_id"))


@dataclass(frozen=True, slots=True)
class PresentedCredentials:
    """What the request claims: a client id, maybe a secret, and the method they came by."""

    client_id: str
    secret: str | None
    method: AuthMethod

    @property
    def via_header(self) -> bool:
        return self.method is AuthMethod.CLIENT_SECRET_BASIC


@dataclass(frozen=True, slots=True)
class AuthenticatedClient:
    app: App
    method: AuthMethod

    @property
    def client_id(self) -> str:
        return self.app.client_id

    @property
    def confidential(self) -> bool:
        return self.method.confidential


def presented_credentials(authorization: str | None, form: Mapping[str, str]) -> PresentedCredentials:
    """Read the credentials from the Authorization header and the form (pure), refusing ambiguity."""
    form_id, form_secret = form.get("client_id"), form.get("client_secret")
    if authorization is not None:
        client_id, secret = _basic(authorization)
        if form_secret is not None:
            raise InvalidRequest(
                "Use one client authentication method: the Authorization header or client_secret in the "
                "body, not both (RFC 6749 section 2.3)."
            )
        if form_id is not None and form_id != client_id:
            raise InvalidRequest(
                "The client_id in the body differs from the one in the Authorization header."
            )
        return PresentedCredentials(client_id, secret, AuthMethod.CLIENT_SECRET_BASIC)
    if form_id is None:
        raise InvalidClient(
            "Client authentication is required: HTTP Basic, or client_id (and client_secret) in the body."
        )
    if form_secret is not None:
        return PresentedCredentials(form_id, form_secret, AuthMethod.CLIENT_SECRET_POST)
    return PresentedCredentials(form_id, None, AuthMethod.NONE)


def claimed_client_id(authorization: str | None, form: Mapping[str, str]) -> str | None:
    """The client id a request claims, unchecked (to count failures against); None if unreadable."""
    if authorization is None:
        return form.get("client_id")
    try:
        return _basic(authorization)[0]
    except InvalidClient:
        return None


def _basic(authorization: str) -> tuple[str, str]:
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        raise InvalidClient(
            "The Authorization header must use the Basic scheme at this endpoint.", headers=BASIC_CHALLENGE
        )
    malformed = InvalidClient(
        "The Basic credentials are malformed: base64 of client_id:client_secret, each form-urlencoded "
        "(RFC 6749 section 2.3.1).",
        headers=BASIC_CHALLENGE,
    )
    encoded = encoded.strip()
    if not encoded or len(encoded) > MAX_HEADER_LENGTH:
        raise malformed
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):  # UnicodeDecodeError is a ValueError
        raise malformed from None
    raw_id, colon, raw_secret = decoded.partition(":")
    if not colon or not raw_id:
        raise malformed
    try:
        return unquote_plus(raw_id, errors="strict"), unquote_plus(raw_secret, errors="strict")
    except UnicodeDecodeError:
        raise malformed from None


def could_be_client_id(client_id: str) -> bool:
    """Shaped like a client id (the shape is public): anything else is unknown without a query."""
    return _CLIENT_ID_SHAPE.fullmatch(client_id) is not None


async def find_app(session: AsyncSession, client_id: str) -> App | None:
    """The app with this client id (one indexed lookup); None for anything not shaped like one."""
    if not could_be_client_id(client_id):
        return None
    return await session.scalar(_FIND_APP, {"client_id": client_id})


async def authenticate(
    session: AsyncSession, keyring: Keyring, presented: PresentedCredentials, *, now: datetime
) -> AuthenticatedClient:
    """The app that `presented` proves to be, or `InvalidClient` (401)."""
    return await verify(session, keyring, presented, await find_app(session, presented.client_id), now=now)


async def verify(
    session: AsyncSession,
    keyring: Keyring,
    presented: PresentedCredentials,
    app: App | None,
    *,
    now: datetime,
) -> AuthenticatedClient:
    """Check `presented` against `app`, the app found for its client id (None if there is none)."""
    challenge = BASIC_CHALLENGE if presented.via_header else {}
    if presented.secret is None:  # method `none`: only a public client may
        if app is None:
            raise InvalidClient(AUTHENTICATION_FAILED)
        if app.auth_method.confidential:
            raise InvalidClient(
                f"This is a confidential client: authenticate with {app.auth_method.value} "
                "(its registered token_endpoint_auth_method)."
            )
        return AuthenticatedClient(app, AuthMethod.NONE)
    hashing_key = await keyring.secret(session, API_KEY_HASHING_SECRET) if app is not None else _DUMMY_KEY
    matched = secret_matches(
        hashing_key,
        presented.secret,
        current=app.client_secret_hash if app is not None else _DUMMY_HASH,
        previous=app.previous_secret_hash if app is not None else None,
        previous_expires_at=app.previous_secret_expires_at if app is not None else None,
        now=now,
    )
    if app is not None and not app.auth_method.confidential:
        raise InvalidClient(
            "This is a public client (token_endpoint_auth_method none): it must not send a client secret.",
            headers=challenge,
        )
    if app is None or not matched:
        raise InvalidClient(AUTHENTICATION_FAILED, headers=challenge)
    if app.auth_method is not presented.method:
        raise InvalidClient(
            f"This client is registered for {app.auth_method.value}: authenticate that way.",
            headers=challenge,
        )
    return AuthenticatedClient(app, presented.method)


async def authenticate_client(
    session: AsyncSession,
    keyring: Keyring,
    authorization: str | None,
    form: Mapping[str, str],
    *,
    now: datetime,
) -> AuthenticatedClient:
    """Both steps: read the credentials from the request, then check them."""
    return await authenticate(session, keyring, presented_credentials(authorization, form), now=now)
