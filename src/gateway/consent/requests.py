"""Authorization requests waiting for a school admin (SPEC §3.2, §3.3; RFC 6749 §4.1.1, §4.1.2, RFC 9207).

`/oauth/authorize` checks a request and keeps it here; the browser carries only its id to
`/consent/<id>`. A request lives `REQUEST_LIFETIME` and is answered at most once (`complete`, a guarded
UPDATE: a second submission from another tab, or a replay, is refused). The answer goes back to the
app's redirect URI with the response parameters and `iss`.

Requests are stored before anyone signs in, so what one may hold is bounded (`oauth.authorize_request`:
`state` up to 1,024 characters, every other parameter up to 2,000, a registered redirect URI, a 43-character
challenge, scopes normalised to the catalogue's names) and every request is deleted once it has expired,
answered or not (`purge_expired_requests`, run on a schedule by the purge job): nothing reads a request
after `expires_at` (`open_pending` refuses it).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Final
from urllib.parse import urlencode

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.consent.models import REQUEST_ID_LENGTH, AuthorizationRequest
from gateway.db.guarded import changed_rows
from gateway.db.unstorable import is_storable_text
from gateway.scopes import format_scopes
from gateway.tokens.expiry import purge_cutoff

REQUEST_LIFETIME: Final = timedelta(minutes=10)
"""How long an admin has to sign in and decide before the app must start again."""


class RequestGone(Exception):
    """The request is unknown, expired or already answered: the app must start again."""


def redirect_location(redirect_uri: str, parameters: dict[str, str | None], *, issuer: str) -> str:
    """The redirect URI with the response parameters added to its query (RFC 6749 §4.1.2, RFC 9207)."""
    values = {name: value for name, value in parameters.items() if value is not None} | {"iss": issuer}
    separator = "&" if "?" in redirect_uri else "?"
    return redirect_uri + separator + urlencode(values)


def denied_location(pending: AuthorizationRequest, *, issuer: str, description: str) -> str:
    return redirect_location(
        pending.redirect_uri,
        {"error": "access_denied", "error_description": description, "state": pending.state},
        issuer=issuer,
    )


async def keep_request(
    session: AsyncSession,
    *,
    app_id: uuid.UUID,
    redirect_uri: str,
    state: str | None,
    code_challenge: str,
    scopes: Iterable[str],
    school_id: uuid.UUID | None,
    now: datetime,
) -> AuthorizationRequest:
    """Store a checked request for the consent page; its id is the only thing the browser carries."""
    pending = AuthorizationRequest(
        id=secrets.token_urlsafe(32),
        app_id=app_id,
        redirect_uri=redirect_uri,
        state=state,
        code_challenge=code_challenge,
        scopes=format_scopes(scopes),
        school_id=school_id,
        expires_at=now + REQUEST_LIFETIME,
    )
    session.add(pending)
    await session.flush()
    return pending


async def open_pending(session: AsyncSession, request_id: str, *, now: datetime) -> AuthorizationRequest:
    """The request still waiting for an answer, or `RequestGone`."""
    impossible = len(request_id) > REQUEST_ID_LENGTH or not is_storable_text(request_id)
    pending = None if impossible else await session.get(AuthorizationRequest, request_id)
    if pending is None or pending.completed_at is not None or pending.expires_at <= now:
        raise RequestGone
    return pending


async def complete(session: AsyncSession, pending: AuthorizationRequest, now: datetime) -> None:
    """Mark the request answered, once: a second submission (another tab, a replay) is `RequestGone`."""
    done = await changed_rows(
        session,
        update(AuthorizationRequest)
        .where(AuthorizationRequest.id == pending.id, AuthorizationRequest.completed_at.is_(None))
        .values(completed_at=now),
    )
    if not done:
        raise RequestGone


async def purge_expired_requests(session: AsyncSession, *, now: datetime) -> int:
    """Delete the requests that expired more than `tokens.expiry.PURGE_MARGIN` ago; how many."""
    return await changed_rows(
        session, delete(AuthorizationRequest).where(AuthorizationRequest.expires_at <= purge_cutoff(now))
    )
