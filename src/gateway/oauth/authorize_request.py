"""Checking an authorization request (RFC 6749 §4.1.1, RFC 7636, RFC 9700 §2.1, §4.1) before it is kept
for an admin's decision (`consent.requests`, SPEC §3.2).

Two kinds of error, in this order:
- `UnsafeRequest`: the client or the redirect URI cannot be trusted, so the browser must not be sent
  anywhere; the admin sees an error page (RFC 6749 §4.1.2.1).
- `RedirectableError`: everything else goes back to the app's registered redirect URI with `error`,
  `error_description`, `state` and `iss` (RFC 9207).

Only the parameters in `PARAMETERS` are read, stored or echoed. Others are ignored, as RFC 6749 §3.1
requires ("MUST ignore unrecognized request parameters"), so standard clients that add, say, `nonce`
keep working; nothing unread can flow into the consent page or the redirect. A parameter given twice is
refused (RFC 6749 §3.1: "MUST NOT be included more than once").
"""

from __future__ import annotations

import secrets
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.models import App
from gateway.consent.models import STATE_MAX_LENGTH
from gateway.consent.rules import required_scopes
from gateway.db.unstorable import is_storable_text
from gateway.oauth.errors import InvalidRequest, InvalidScope, OAuthError, UnsupportedResponseType
from gateway.schools.models import School
from gateway.scopes import ALWAYS_GRANTED, ScopeError, format_scopes, parse_scope_string
from gateway.tokens.pkce import is_s256_challenge

PARAMETERS: Final = frozenset(
    {
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
        "school_id",
    }
)
PARAMETER_MAX_LENGTH: Final = 2000


class UnsafeRequest(Exception):
    """Shown on a page, never redirected: the client or redirect URI is missing, unknown or wrong."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class RedirectableError(Exception):
    """An OAuth error to send back to a redirect URI that is registered for the client."""

    def __init__(self, error: OAuthError, *, redirect_uri: str, state: str | None) -> None:
        super().__init__(error.description)
        self.error = error
        self.redirect_uri = redirect_uri
        self.state = state


@dataclass(frozen=True, slots=True)
class CheckedRequest:
    app: App
    redirect_uri: str
    state: str | None
    code_challenge: str
    scopes: frozenset[str]
    """What the app asks for: its registered required scopes (with what they imply) and the optional
    scopes it asked for this time."""
    school_id: uuid.UUID | None


def _single_values(items: Sequence[tuple[str, str]]) -> tuple[dict[str, str], set[str]]:
    """The recognised parameters (first value of each) and the names given more than once."""
    counts = Counter(name for name, _ in items if name in PARAMETERS)
    values: dict[str, str] = {}
    for name, value in items:
        if name in PARAMETERS:
            values.setdefault(name, value)
    return values, {name for name, count in counts.items() if count > 1}


async def check_request(session: AsyncSession, items: Sequence[tuple[str, str]]) -> CheckedRequest:
    """Check the query of `/oauth/authorize`: `UnsafeRequest` or `RedirectableError` if it is wrong."""
    values, repeated = _single_values(items)
    app = await _checked_client(session, values.get("client_id"), "client_id" in repeated)
    redirect_uri = _checked_redirect_uri(app, values.get("redirect_uri"), "redirect_uri" in repeated)
    state = values.get("state") if "state" not in repeated else None
    unstorable = sorted(name for name, value in values.items() if not is_storable_text(value))
    if "state" in unstorable or (state is not None and len(state) > STATE_MAX_LENGTH):
        state = None  # never echoed back (a NUL, or kilobytes into a Location header): the error goes alone

    def fail(error: OAuthError) -> RedirectableError:
        return RedirectableError(error, redirect_uri=redirect_uri, state=state)

    if unstorable:
        raise fail(
            InvalidRequest(f"Parameters hold characters that are not allowed: {', '.join(unstorable)}.")
        )
    if repeated:
        raise fail(InvalidRequest(f"Parameters given more than once: {', '.join(sorted(repeated))}."))
    too_long = sorted(
        name
        for name, value in values.items()
        if len(value) > (STATE_MAX_LENGTH if name == "state" else PARAMETER_MAX_LENGTH)
    )
    if too_long:
        raise fail(InvalidRequest(f"Parameters too long: {', '.join(too_long)}."))
    response_type = values.get("response_type")
    if response_type is None:
        raise fail(InvalidRequest("response_type is required."))
    if response_type != "code":
        raise fail(UnsupportedResponseType("Only response_type=code is supported."))
    challenge = _checked_challenge(values)
    if isinstance(challenge, OAuthError):
        raise fail(challenge)
    scopes = _checked_scopes(app, values.get("scope"))
    if isinstance(scopes, OAuthError):
        raise fail(scopes)
    school_id = await _checked_school(session, values.get("school_id"))
    if isinstance(school_id, OAuthError):
        raise fail(school_id)
    return CheckedRequest(app, redirect_uri, state, challenge, scopes, school_id)


async def _checked_client(session: AsyncSession, client_id: str | None, repeated: bool) -> App:
    if repeated:
        raise UnsafeRequest("The app sent client_id more than once.")
    if not client_id:
        raise UnsafeRequest("The app did not say who it is (client_id is missing).")
    app = None
    if len(client_id) <= 64 and is_storable_text(client_id):
        app = await session.scalar(select(App).where(App.client_id == client_id))
    if app is None:
        raise UnsafeRequest("No app is registered with this client_id.")
    return app


def _checked_redirect_uri(app: App, redirect_uri: str | None, repeated: bool) -> str:
    if repeated:
        raise UnsafeRequest("The app sent redirect_uri more than once.")
    if not redirect_uri:
        raise UnsafeRequest("The app did not say where to send you back to (redirect_uri is missing).")
    # Exact string comparison with a registered URI (RFC 9700 §4.1.3): no prefix, case or port leeway.
    if not any(secrets.compare_digest(redirect_uri, registered) for registered in app.redirect_uris):
        raise UnsafeRequest("The redirect_uri is not one the app registered, so you will not be sent there.")
    return redirect_uri


def _checked_challenge(values: dict[str, str]) -> str | OAuthError:
    challenge = values.get("code_challenge")
    method = values.get("code_challenge_method")
    if challenge is None:
        return InvalidRequest("PKCE is required: send code_challenge and code_challenge_method=S256.")
    if method != "S256":  # RFC 7636 §4.4.1; `plain` (and the default when absent) is refused
        return InvalidRequest("code_challenge_method must be S256.")
    if not is_s256_challenge(challenge):
        return InvalidRequest("code_challenge must be 43 base64url characters (an S256 hash).")
    return challenge


def _checked_scopes(app: App, scope: str | None) -> frozenset[str] | OAuthError:
    required = required_scopes(app)
    optional = parse_scope_string(app.optional_scopes)
    if scope is None:
        return required | optional
    try:
        asked = parse_scope_string(scope)
    except ScopeError as error:
        return InvalidScope(str(error))
    unregistered = asked - required - optional - ALWAYS_GRANTED
    if unregistered:
        return InvalidScope(f"Scopes not registered for this app: {format_scopes(unregistered)}.")
    return required | asked


async def _checked_school(session: AsyncSession, school_id: str | None) -> uuid.UUID | OAuthError | None:
    if school_id is None:
        return None
    try:
        parsed = uuid.UUID(school_id)
    except ValueError:
        return InvalidRequest("school_id is not a school id.")
    if await session.get(School, parsed) is None:
        return InvalidRequest("school_id is not a school id.")
    return parsed
