"""Sign-in pages for school admins (SPEC §5, §9): plain HTML forms, CSRF on every form, 303 after POST.

Form field names are an interface (SPEC §9): login `email`, `password`; second factor `code`.
Messages shown after a redirect come from fixed codes in the query string, never from user input.
A failed sign-in shows the form again with the email typed (kept in a short-lived cookie of the
browser's own, never in the URL, so no access log holds it); the password is never kept.
Sign-in on the way to an app's request names the app, looked up from the request id (`consent.asking`).
What the other admin pages share with these (the signed-in session, its CSRF check, the 303s) is in
`accounts.page_session`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import Annotated, Final

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse

from gateway.accounts import service
from gateway.accounts.errors import CsrfRejected, LinkInvalid, PasswordRejected, SessionInvalid
from gateway.accounts.links import LinkPurpose, check_link
from gateway.accounts.page_session import (
    HashingDep,
    IssuerDep,
    ThrottleDep,
    require_session_csrf,
    return_path,
    see_other,
    signed_in,
    with_next,
)
from gateway.accounts.reset_requests import request_reset
from gateway.accounts.sessions import (
    COOKIE_NAME,
    Stage,
    end_all_sessions,
    end_session,
    load_session,
    open_session,
    renew,
)
from gateway.auth.passwords import policy_message
from gateway.auth.totp import provisioning_uri, qr_code_svg
from gateway.consent.asking import asking_app
from gateway.db.base import utcnow
from gateway.db.session import SessionDep
from gateway.errors import InvalidInput
from gateway.http import csrf
from gateway.keys.dependencies import KeyringDep
from gateway.schools.models import School
from gateway.web.templates import render

router = APIRouter(include_in_schema=False)

NOTICES = {
    "signed_out": "You have signed out.",
    "reset_sent": "If that address belongs to an admin, we have emailed a link to reset the password.",
    "password_set": "Your password is saved. Sign in with it now.",
    "password_changed": "Your password is changed. Your other sessions have been signed out.",
}
PROBLEMS = {
    "login": "The email, password or code is not right, or the account is locked.",
    "code": "That code is not right. Wait for the next code and try again.",
    "mismatch": "The two passwords do not match.",
    "current": "Your current password is not right.",
    "enrol": "That code does not match. Check the time on your phone and try the next code.",
}
Text = Annotated[str, Form(max_length=1024)]
NextField = Annotated[str, Form(alias="next", max_length=100)]
NextQuery = Annotated[str | None, Query(alias="next", max_length=100)]
ProblemCodes = Annotated[list[str], Query(alias="problem")]

# The email typed on a failed sign-in, to show it again: the browser's own, for ten minutes.
TYPED_EMAIL_COOKIE: Final = "__Host-gw_login_email"
TYPED_EMAIL_SECONDS: Final = 600
MAX_EMAIL_LENGTH: Final = 254
MAX_TYPED_EMAIL_COOKIE_LENGTH: Final = 4 * -(-4 * MAX_EMAIL_LENGTH // 3)  # base64 of 254 4-byte characters


def problem_messages(codes: list[str]) -> list[str]:
    """The messages for the fixed problem codes a form was sent back with; unknown codes are ignored."""
    messages = (PROBLEMS.get(code) or policy_message(code) for code in codes[:8])
    return [message for message in messages if message]


def problem_query(rejected: PasswordRejected) -> str:
    """`problem=…&problem=…`: each reason the password policy gave, as its fixed code."""
    return "&".join(f"problem={error['code']}" for error in rejected.errors)


def page(
    request: Request,
    template: str,
    title: str,
    *,
    csrf_token: str = "",
    notice: str | None = None,
    problems: list[str] | None = None,
    status_code: int = 200,
    **context: object,
) -> HTMLResponse:
    return render(
        request,
        template,
        title=title,
        csrf_token=csrf_token,
        notice=NOTICES.get(notice or ""),
        problems=problems or [],
        status_code=status_code,
        **context,
    )


def require_anonymous_csrf(request: Request, presented: str) -> None:
    if not csrf.matches(request.cookies.get(csrf.ANONYMOUS_COOKIE), presented):
        raise CsrfRejected


# --- sign in ----------------------------------------------------------------------------------------------


def keep_typed_email(response: Response, email: str) -> None:
    """Remember what was typed in the email field, if it could be an address, to fill the form again."""
    if 0 < len(email) <= MAX_EMAIL_LENGTH and email.isprintable():
        value = base64.urlsafe_b64encode(email.encode("utf-8")).decode("ascii")
        csrf.set_secure_cookie(response, TYPED_EMAIL_COOKIE, value, max_age=TYPED_EMAIL_SECONDS)


def typed_email(request: Request) -> str:
    """The email kept by `keep_typed_email`, or "" (Jinja escapes it where the form shows it)."""
    value = request.cookies.get(TYPED_EMAIL_COOKIE, "")
    if not value or len(value) > MAX_TYPED_EMAIL_COOKIE_LENGTH:
        return ""
    try:
        email = base64.urlsafe_b64decode(value.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        return ""
    return email if len(email) <= MAX_EMAIL_LENGTH and email.isprintable() else ""


def anonymous_page(request: Request, template: str, title: str, **context: object) -> HTMLResponse:
    """A signed-out form, with the visitor's CSRF token (and its cookie if this is their first page)."""
    cookie = HTMLResponse()
    token = csrf.anonymous_token(request, cookie)
    response = page(request, template, title, csrf_token=token, **context)  # type: ignore[arg-type]
    for value in cookie.headers.getlist("set-cookie"):
        response.headers.append("set-cookie", value)
    return response


@router.get("/login")
async def login_form(
    request: Request,
    session: SessionDep,
    notice: str | None = None,
    failed: bool = False,
    next_path: NextQuery = None,
) -> Response:
    back = return_path(next_path)
    return anonymous_page(
        request,
        "login.html",
        "Sign in",
        notice=notice,
        problems=[PROBLEMS["login"]] if failed else None,
        next=back,
        asking=await asking_app(session, back, now=utcnow()),
        email=typed_email(request) if failed else "",
    )


@router.post("/login")
async def login(
    request: Request,
    session: SessionDep,
    hashing: HashingDep,
    limiter: ThrottleDep,
    iss: IssuerDep,
    email: Text,
    password: Text,
    csrf_token: Text,
    next_path: NextField = "",
) -> Response:
    require_anonymous_csrf(request, csrf_token)
    await limiter.check(request, "login")
    back = return_path(next_path)
    outcome = await service.password_login(session, hashing, email=email, password=password, issuer=iss)
    if outcome is None:
        failed = see_other(with_next("/login?failed=true", back))
        keep_typed_email(failed, email)
        return failed
    await end_session(session, request.cookies.get(COOKIE_NAME))  # never keep an id from before sign-in
    opened = await open_session(session, outcome.admin, outcome.next_stage)
    target = {
        Stage.SECOND_FACTOR: with_next("/login/totp", back),
        Stage.ENROL: with_next("/account/totp", back),
        Stage.FULL: back or "/dashboard",
    }
    response = see_other(target[outcome.next_stage], token=opened.token)
    if TYPED_EMAIL_COOKIE in request.cookies:
        response.delete_cookie(TYPED_EMAIL_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
    return response


@router.get("/login/totp")
async def totp_form(
    request: Request, session: SessionDep, failed: bool = False, next_path: NextQuery = None
) -> Response:
    record, _admin = await signed_in(request, session, Stage.SECOND_FACTOR)
    back = return_path(next_path)
    return page(
        request,
        "totp.html",
        "Enter your code",
        csrf_token=record.csrf_token,
        problems=[PROBLEMS["code"]] if failed else None,
        next=back,
        asking=await asking_app(session, back, now=utcnow()),
    )


@router.post("/login/totp")
async def totp(
    request: Request,
    session: SessionDep,
    ring: KeyringDep,
    limiter: ThrottleDep,
    iss: IssuerDep,
    code: Text,
    csrf_token: Text,
    next_path: NextField = "",
) -> Response:
    record, admin = await signed_in(request, session, Stage.SECOND_FACTOR)
    require_session_csrf(record, csrf_token)
    await limiter.check(request, "login")
    back = return_path(next_path)
    if not await service.second_factor(session, ring, admin, code, issuer=iss):
        if admin.locked_at is not None:
            return see_other("/login?failed=true", clear_session=True)
        return see_other(with_next("/login/totp?failed=true", back))
    opened = await renew(session, record, admin, Stage.FULL)
    return see_other(back or "/dashboard", token=opened.token)


@router.post("/logout")
async def logout(request: Request, session: SessionDep, csrf_token: Text) -> Response:
    record, _admin = await load_session(session, request.cookies.get(COOKIE_NAME))
    require_session_csrf(record, csrf_token)
    await end_session(session, request.cookies.get(COOKIE_NAME))
    return see_other("/login?notice=signed_out", clear_session=True)


# --- forgotten password, reset and first setup --------------------------------------------------------------


@router.get("/forgot-password")
async def forgot_form(request: Request) -> Response:
    return anonymous_page(request, "forgot.html", "Reset your password")


@router.post("/forgot-password")
async def forgot(
    request: Request, session: SessionDep, limiter: ThrottleDep, email: Text, csrf_token: Text
) -> Response:
    require_anonymous_csrf(request, csrf_token)
    await limiter.check(request, "reset")
    # The same work for every address: the mail worker decides whether there is anyone to mail.
    await request_reset(session, email)
    return see_other("/login?notice=reset_sent")


def _link_routes(purpose: LinkPurpose, path: str, title: str) -> None:
    @router.get(path, name=f"{purpose}_form")
    async def form(
        request: Request,
        session: SessionDep,
        token: Annotated[str, Query(max_length=100)] = "",
        problem: ProblemCodes = [],  # noqa: B006
    ) -> Response:
        try:
            await check_link(session, token, purpose)
        except LinkInvalid as exc:
            return page(
                request,
                "message.html",
                "Link not valid",
                message=exc.detail,
                status_code=400,
                link={"href": "/forgot-password", "text": "Ask for a new link"},
            )
        return anonymous_page(
            request, "set_password.html", title, token=token, action=path, problems=problem_messages(problem)
        )

    @router.post(path, name=f"{purpose}_submit")
    async def submit(
        request: Request,
        session: SessionDep,
        hashing: HashingDep,
        token: Text,
        password: Text,
        password_confirm: Text,
        csrf_token: Text,
    ) -> Response:
        require_anonymous_csrf(request, csrf_token)
        if password != password_confirm:
            return see_other(f"{path}?token={token}&problem=mismatch")
        try:
            await service.complete_link(session, hashing, token, purpose, password)
        except PasswordRejected as exc:
            return see_other(f"{path}?token={token}&{problem_query(exc)}")
        except LinkInvalid:
            return see_other(f"{path}?token=")
        return see_other("/login?notice=password_set")


_link_routes(LinkPurpose.RESET, "/reset-password", "Choose a new password")
_link_routes(LinkPurpose.SETUP, "/setup", "Set up your account")


# --- account ----------------------------------------------------------------------------------------------


@router.get("/account")
async def account(
    request: Request,
    session: SessionDep,
    notice: str | None = None,
    problem: ProblemCodes = [],  # noqa: B006
) -> Response:
    try:
        record, admin = await signed_in(request, session, Stage.FULL)
    except SessionInvalid:
        return see_other("/login")
    school = await session.get(School, admin.school_id)
    return page(
        request,
        "account.html",
        "Your account",
        csrf_token=record.csrf_token,
        notice=notice,
        problems=problem_messages(problem),
        admin=admin,
        school=school,
    )


@router.post("/account/password")
async def change_password(
    request: Request,
    session: SessionDep,
    hashing: HashingDep,
    limiter: ThrottleDep,
    current_password: Text,
    password: Text,
    password_confirm: Text,
    csrf_token: Text,
) -> Response:
    record, admin = await signed_in(request, session, Stage.FULL)
    require_session_csrf(record, csrf_token)
    await limiter.check(request, "login")
    if password != password_confirm:
        return see_other("/account?problem=mismatch")
    if (
        admin.password_hash is None
        or not (await asyncio.to_thread(hashing.verify, admin.password_hash, current_password)).ok
    ):
        return see_other("/account?problem=current")
    try:
        await service.set_password(session, hashing, admin, password)
    except PasswordRejected as exc:  # nothing is changed; the page says why
        return see_other(f"/account?{problem_query(exc)}")
    await end_all_sessions(session, admin, keep=record)
    return see_other("/account?notice=password_changed")


def continue_link(back: str | None) -> dict[str, str]:
    """Where the recovery-codes page sends the admin on: back to the page that sent them, or the account."""
    if back is None:
        return {"href": "/account", "text": "Continue to your account"}
    if back.startswith("/consent/"):
        return {"href": back, "text": "Continue to the app's request"}
    return {"href": back, "text": "Continue to connected apps"}


@router.get("/account/totp")
async def enrol_form(
    request: Request,
    session: SessionDep,
    ring: KeyringDep,
    iss: IssuerDep,
    failed: bool = False,
    next_path: NextQuery = None,
) -> Response:
    record, admin = await signed_in(request, session, Stage.FULL, Stage.ENROL)
    back = return_path(next_path)
    if admin.totp_enrolled_at is not None:
        return see_other(back or "/account")
    secret = await service.pending_totp_secret(session, ring, admin) or await service.start_totp_enrolment(
        session, ring, admin
    )
    uri = provisioning_uri(secret, account_name=admin.email, issuer=f"Gateway ({iss.split('//', 1)[-1]})")
    return page(
        request,
        "enrol_totp.html",
        "Set up a second factor",
        csrf_token=record.csrf_token,
        problems=[PROBLEMS["enrol"]] if failed else None,
        required=record.stage == Stage.ENROL,
        next=back,
        asking=await asking_app(session, back, now=utcnow()),
        qr_svg=qr_code_svg(uri),
        secret_groups=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    )


@router.post("/account/totp")
async def enrol(
    request: Request,
    session: SessionDep,
    ring: KeyringDep,
    code: Text,
    csrf_token: Text,
    next_path: NextField = "",
) -> Response:
    record, admin = await signed_in(request, session, Stage.FULL, Stage.ENROL)
    require_session_csrf(record, csrf_token)
    back = return_path(next_path)
    try:
        codes = await service.confirm_totp_enrolment(session, ring, admin, code)
    except InvalidInput:
        return see_other(with_next("/account/totp?failed=true", back))
    if record.stage == Stage.ENROL:
        await service.login_succeeded(session, admin)
    opened = await renew(session, record, admin, Stage.FULL)
    # Recovery codes are shown once, in this response, and never stored in the clear: the one page
    # that answers a POST with content instead of a redirect.
    response = page(
        request, "recovery_codes.html", "Save your recovery codes", codes=codes, go_on=continue_link(back)
    )
    csrf.set_secure_cookie(response, COOKIE_NAME, opened.token)
    return response
