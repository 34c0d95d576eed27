"""`current_school_principal`: who a `/manage/v1` request acts for (SPEC §7: school API key or admin session).

- `Authorization: Bearer gw_sk_…` — a live API key of the school. When the header is present it decides
  alone: a bad key is 401 even if a session cookie came too.
- Otherwise the admin session cookie, fully signed in (`Stage.FULL`). A cookie is sent by the browser on
  its own, so unsafe methods also need `X-CSRF-Token` equal to the session's CSRF token (403 without it).

Either way the principal is bound to one school: a session of school A's admin only ever reaches school A.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from gateway.accounts.errors import CsrfRejected, SessionInvalid
from gateway.accounts.sessions import COOKIE_NAME, Stage, load_session
from gateway.db.session import SessionDep
from gateway.errors import Problem, Unauthorized
from gateway.http import csrf
from gateway.keys.dependencies import KeyringDep
from gateway.manage import api_keys
from gateway.manage.principal import SchoolPrincipal

CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  # every other method needs the CSRF header


class CsrfTokenRequired(CsrfRejected):
    """The same problem type as a form without its token; the detail says what an API client must send."""

    def __init__(self) -> None:
        Problem.__init__(
            self,
            f"With a session cookie, send the session's CSRF token in the {CSRF_HEADER} header, "
            "or use a school API key.",
        )


school_api_key = HTTPBearer(
    auto_error=False,
    scheme_name="schoolApiKey",
    bearerFormat="gw_sk_…",
    description="A school API key, from `POST /manage/v1/api-keys`; shown once when created.",
)
admin_session = APIKeyCookie(
    name=COOKIE_NAME,
    auto_error=False,
    scheme_name="adminSession",
    description=(
        "A signed-in admin's session cookie (password and, where enrolled, second factor). POST, PUT, "
        f"PATCH and DELETE also need the `{CSRF_HEADER}` header set to the session's CSRF token."
    ),
)


def not_authenticated() -> Unauthorized:
    return Unauthorized(
        "Send a school API key as `Authorization: Bearer gw_sk_…`, or sign in as an admin of the school.",
        headers=api_keys.BEARER_CHALLENGE,
    )


async def current_school_principal(
    request: Request,
    session: SessionDep,
    ring: KeyringDep,
    # Declared for the OpenAPI security requirements; the raw header and cookie are read below.
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(school_api_key)],
    _cookie: Annotated[str | None, Security(admin_session)],
) -> SchoolPrincipal:
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer":
            raise api_keys.invalid_key()
        return await api_keys.authenticate(session, ring, token.strip())

    cookie = request.cookies.get(COOKIE_NAME)
    if cookie is None:
        raise not_authenticated()
    try:
        record, admin = await load_session(session, cookie)
    except SessionInvalid:
        raise not_authenticated() from None
    if record.stage != Stage.FULL:
        raise not_authenticated()
    if request.method not in SAFE_METHODS and not csrf.matches(
        record.csrf_token, request.headers.get(CSRF_HEADER)
    ):
        raise CsrfTokenRequired()
    return SchoolPrincipal(school_id=admin.school_id, admin_id=admin.id)


PrincipalDep = Annotated[SchoolPrincipal, Depends(current_school_principal)]
