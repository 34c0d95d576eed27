"""`/consent/<request id>`: the Data Access Request page a school admin approves or denies (SPEC §3.3, §9).

Thin: `consent.decisions` and `consent.rules` decide. Signed-out admins go to sign-in and come back here.
Form names are an interface (SPEC §9): `scope` per optional scope, `confirm_sensitive` per sensitive
scope, `decision` (`approve` | `deny`); also `audience` (`school` | `groups`), `group` and
`exclude_student`.
A wrong approval is shown again with the admin's choices kept (422); a decision ends with a 303.
The pupil picker's "Find" button (`find_pupils`, with `pupil_search`) shows the page again with the
choices kept and the pupils filtered: searching works without JavaScript.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData

from gateway.accounts.errors import SessionInvalid
from gateway.accounts.page_session import IssuerDep, see_other, session_form, signed_in
from gateway.accounts.sessions import Stage
from gateway.apps.validation import redirect_origin
from gateway.consent import decisions, requests, rules
from gateway.consent.choices import MAX_PUPIL_SEARCH_LENGTH, pupil_matches
from gateway.consent.decisions import WrongSchool
from gateway.consent.requests import RequestGone
from gateway.consent.rules import ConsentView, Decision
from gateway.db.base import utcnow
from gateway.db.session import SessionDep
from gateway.http.security_headers import DEFAULT_CSP
from gateway.keys.dependencies import KeyringDep
from gateway.web.templates import render

router = APIRouter(include_in_schema=False)

MAX_FORM_FIELDS: Final = 2 * rules.MAX_AUDIENCE_IDS + 100
MAX_VALUE_LENGTH: Final = 100
TITLE: Final = "Share school data with an app?"


def _gone(request: Request) -> Response:
    return render(
        request,
        "message.html",
        title="This request has ended",
        message="This request to connect an app has expired or has already been answered. Nothing more "
        "has been shared. Go back to the app and start again if you still want to connect it.",
        link={"href": "/account", "text": "Go to your account"},
        status_code=400,
    )


def _csp_for(redirect_uri: str) -> str:
    """The default policy, with the app's origin allowed as the target of the form's final redirect.

    Browsers apply `form-action` to redirects that follow a form submission (CSP 3 §6.4.1), so the 303 to
    the app after a decision needs its origin here. The origin is rebuilt from a URI that passes today's
    registration rules (a real host, a decimal port): a URI stored before those rules that does not gets
    no entry, so no stored value can add a source or a directive to the policy. Nor does an IPv6 literal
    (`http://[::1]:8765`): CSP's host-source grammar has none, and browsers ignore it as invalid.
    """
    origin = redirect_origin(redirect_uri)
    if origin is None or "[" in origin:
        return DEFAULT_CSP
    return DEFAULT_CSP.replace("form-action 'self'", f"form-action 'self' {origin}")


def _page(
    request: Request,
    view: ConsentView,
    csrf_token: str,
    decision: Decision,
    problems: list[str],
    *,
    search: str = "",
) -> Response:
    response = render(
        request,
        "consent.html",
        title=TITLE,
        view=view,
        csrf_token=csrf_token,
        decision=decision,
        problems=problems,
        search=search,
        matches=pupil_matches,
        notice=None,
        status_code=422 if problems else 200,
    )
    response.headers["content-security-policy"] = _csp_for(view.pending.redirect_uri)
    return response


@router.get("/consent/{request_id}")
async def consent_form(
    request: Request, request_id: str, session: SessionDep, ring: KeyringDep, iss: IssuerDep
) -> Response:
    now = utcnow()
    try:
        pending = await requests.open_pending(session, request_id, now=now)
    except RequestGone:
        return _gone(request)
    try:
        record, admin = await signed_in(request, session, Stage.FULL)
    except SessionInvalid:
        return see_other(f"/login?next=/consent/{pending.id}")
    try:
        view = await decisions.load(session, ring, pending, admin, now=now)
    except WrongSchool:
        return see_other(await decisions.refuse_for_school(session, pending, issuer=iss, now=now))
    except RequestGone:
        return _gone(request)
    return _page(
        request,
        view,
        record.csrf_token,
        Decision(
            audience_kind="groups" if view.audience.groups is not None else "school",
            groups=view.audience.sorted_groups,
            exclude=view.audience.sorted_exclude,
        ),
        [],
    )


def _decision(form: FormData) -> tuple[str | None, Decision]:
    problems: list[str] = []
    values = {name: [str(v) for v in form.getlist(name)] for name in form}
    if any(len(v) > MAX_VALUE_LENGTH for vs in values.values() for v in vs):
        problems.append("A value on the form is too long. Reload the page and try again.")
    single = {name: vs[0] if len(vs) == 1 else None for name, vs in values.items()}
    return single.get("decision"), Decision(
        optional=frozenset(values.get("scope", [])),
        confirmed=frozenset(values.get("confirm_sensitive", [])),
        audience_kind=single.get("audience") or "school",
        groups=tuple(dict.fromkeys(values.get("group", []))),
        exclude=tuple(dict.fromkeys(values.get("exclude_student", []))),
        problems=problems,
    )


@router.post("/consent/{request_id}")
async def consent_decision(
    request: Request, request_id: str, session: SessionDep, ring: KeyringDep, iss: IssuerDep
) -> Response:
    now = utcnow()
    try:
        pending = await requests.open_pending(session, request_id, now=now)
    except RequestGone:
        return _gone(request)
    record, admin = await signed_in(request, session, Stage.FULL)
    form = await session_form(request, record, max_fields=MAX_FORM_FIELDS)
    choice, decision = _decision(form)
    try:
        if "find_pupils" in form:  # the pupil search, without JavaScript: the same page, choices kept
            view = await decisions.load(session, ring, pending, admin, now=now)
            search = str(form.get("pupil_search") or "")[:MAX_PUPIL_SEARCH_LENGTH]
            return _page(request, view, record.csrf_token, decision, [], search=search)
        # A refusal needs no audience choices: do not decrypt the school's groups and pupils for it.
        view = await decisions.load(session, ring, pending, admin, now=now, choices=choice != "deny")
        if choice == "deny":
            return see_other(await decisions.deny(session, view, issuer=iss, now=now))
        if choice != "approve":
            return _page(request, view, record.csrf_token, decision, ["Choose Allow access or Deny."])
        problems = rules.check(view, decision)
        if problems:
            return _page(request, view, record.csrf_token, decision, problems)
        return see_other(await decisions.approve(session, view, decision, issuer=iss, now=now))
    except WrongSchool:
        return see_other(await decisions.refuse_for_school(session, pending, issuer=iss, now=now))
    except RequestGone:
        return _gone(request)
