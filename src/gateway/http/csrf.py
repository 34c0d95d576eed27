"""CSRF tokens for HTML forms (SPEC §5). Signed-in forms carry the session's token; anonymous forms use a
double-submit cookie. Either way the form field must match, compared in constant time."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request, Response

ANONYMOUS_COOKIE = "__Host-gw_csrf"
FIELD = "csrf_token"


def anonymous_token(request: Request, response: Response) -> str:
    """The visitor's CSRF token, set as a cookie if they have none yet."""
    token = request.cookies.get(ANONYMOUS_COOKIE)
    if not token or len(token) > 64:
        token = secrets.token_urlsafe(32)
        set_secure_cookie(response, ANONYMOUS_COOKIE, token)
    return token


def matches(expected: str | None, presented: str | None) -> bool:
    if not expected or not presented or len(presented) > 64:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode())


def set_secure_cookie(response: Response, name: str, value: str, *, max_age: int | None = None) -> None:
    """`__Host-` cookies: Secure, HttpOnly, SameSite=Lax, Path=/, no Domain."""
    response.set_cookie(name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="lax")
