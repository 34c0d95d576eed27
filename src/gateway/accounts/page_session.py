"""What every school-admin page shares (SPEC §5): the signed-in session, its CSRF check, the 303 that sets
or clears the session cookie, where sign-in may return to, and the issuer the pages and authorize name.

No routes here: the sign-in pages (`accounts.pages`), the consent page, the dashboard and `/oauth/authorize`
all import from this module.
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from gateway.accounts.errors import CsrfRejected, SessionInvalid
from gateway.accounts.models import Admin, AdminSession
from gateway.accounts.sessions import COOKIE_NAME, Stage, load_session
from gateway.auth.passwords import PasswordHashing
from gateway.http import csrf
from gateway.http.throttle import Throttle

# Where sign-in may return to: only a consent or dashboard page, so `next` can never become an open redirect.
_RETURN_PATH = re.compile(
    r"/consent/[A-Za-z0-9_-]{43}"
    r"|/dashboard(/grants/[0-9a-f-]{36}(/revoke)?|/log|/data|/ended|/deletion|/settings|/support|/pupils(/[A-Za-z0-9._:-]{1,64})?)?"
)


def return_path(value: str | None) -> str | None:
    """`value` if it is a page sign-in may send the admin back to, else None."""
    return value if value is not None and _RETURN_PATH.fullmatch(value) else None


def with_next(path: str, next_path: str | None) -> str:
    if next_path is None:
        return path
    return f"{path}{'&' if '?' in path else '?'}next={quote(next_path, safe='/')}"


async def issuer(request: Request) -> str:
    value: str = request.app.state.settings.issuer
    return value


IssuerDep = Annotated[str, Depends(issuer)]


async def hashing(request: Request) -> PasswordHashing:
    value: PasswordHashing = request.app.state.password_hashing
    return value


async def throttle(request: Request) -> Throttle:
    value: Throttle = request.app.state.throttle
    return value


FormField = Annotated[str, Form(max_length=512)]
"""A signed-in page's form field (a CSRF token, a password): longer is a 422 before any work."""

HashingDep = Annotated[PasswordHashing, Depends(hashing)]
ThrottleDep = Annotated[Throttle, Depends(throttle)]


def see_other(path: str, *, token: str | None = None, clear_session: bool = False) -> RedirectResponse:
    response = RedirectResponse(path, status_code=303)
    if token is not None:
        csrf.set_secure_cookie(response, COOKIE_NAME, token)
    if clear_session:
        response.delete_cookie(COOKIE_NAME, path="/", secure=True, httponly=True, samesite="lax")
    return response


async def signed_in(request: Request, session: AsyncSession, *stages: Stage) -> tuple[AdminSession, Admin]:
    record, admin = await load_session(session, request.cookies.get(COOKIE_NAME))
    if record.stage not in stages:
        raise SessionInvalid
    return record, admin


async def signed_in_or_sign_in(
    request: Request, session: AsyncSession
) -> tuple[AdminSession, Admin] | RedirectResponse:
    """A page's fully signed-in admin and their session, or the 303 to sign in and come back here."""
    try:
        return await signed_in(request, session, Stage.FULL)
    except SessionInvalid:
        return see_other(with_next("/login", return_path(request.url.path)))


def require_session_csrf(record: AdminSession, presented: str) -> None:
    if not csrf.matches(record.csrf_token, presented):
        raise CsrfRejected


async def session_form(request: Request, record: AdminSession, *, max_fields: int) -> FormData:
    """A signed-in form with many (repeated) fields, read by hand, after its one CSRF token is checked."""
    form = await request.form(max_files=0, max_fields=max_fields)
    tokens = form.getlist("csrf_token")
    if len(tokens) != 1 or not isinstance(tokens[0], str):
        raise CsrfRejected
    require_session_csrf(record, tokens[0])
    return form
