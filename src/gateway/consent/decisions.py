"""A school admin's decision on an authorization request (SPEC §3.3): load, approve, deny.

`load` gathers what the consent page shows (and the first time, records the request in the school's
log); `consent.rules.check` says what is wrong with a decision; `approve` creates or widens the grant
(incremental consent: scopes the live grant holds stay granted and are not asked again) and issues a
code; `deny` ends the request with `access_denied`. Every decision is an event in the school's log, and
an approval also yields a signed consent receipt (`consent.receipts`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.accounts.models import Admin
from gateway.apps.models import App
from gateway.audit import events
from gateway.audit.events import EventType
from gateway.audit.service import record_event
from gateway.consent.audience import Audience
from gateway.consent.choices import group_choices, student_choices
from gateway.consent.models import AuthorizationRequest, Grant, SensitiveApproval
from gateway.consent.more_access import announce_more_access
from gateway.consent.receipts import ReceiptDecision, record_receipt
from gateway.consent.repository import live_grant
from gateway.consent.requests import RequestGone, complete, denied_location, redirect_location
from gateway.consent.rules import ConsentView, Decision, required_scopes
from gateway.developers.models import Developer
from gateway.keys.keyring import Keyring
from gateway.schools.models import School
from gateway.scopes import (
    CATALOGUE,
    Scope,
    effective_scopes,
    expand,
    format_scopes,
    parse_scope_string,
    sort_scopes,
)
from gateway.tokens.codes import issue_code
from gateway.webhooks.events import WebhookEvent
from gateway.webhooks.grant_events import grant_state, queue_grant_event

__all__ = ["Decision", "WrongSchool", "approve", "deny", "load", "refuse_for_school"]


class WrongSchool(Exception):
    """The app asked for a school the signed-in admin does not administer."""


def _scopes(names: Iterable[str]) -> tuple[Scope, ...]:
    return tuple(CATALOGUE[name] for name in sort_scopes(names))


async def load(
    session: AsyncSession,
    keyring: Keyring,
    pending: AuthorizationRequest,
    admin: Admin,
    *,
    now: datetime,
    choices: bool = True,
) -> ConsentView:
    """What the page shows to `admin`; the first time, the request is recorded in the school's log.

    `choices=False` leaves out the groups and pupils to choose from (decrypting them is the page's cost).
    """
    if pending.school_id is not None and pending.school_id != admin.school_id:
        raise WrongSchool
    app = await session.get(App, pending.app_id)
    school = await session.get(School, admin.school_id)
    if app is None or school is None:
        raise RequestGone
    developer = await session.get(Developer, app.developer_id)
    grant = await live_grant(session, school.id, app.id)
    requested = parse_scope_string(pending.scopes)
    required = required_scopes(app)
    held = grant.scope_set if grant is not None else frozenset()
    if pending.presented_at is None:
        pending.presented_at = now
        await record_event(
            session,
            school_id=school.id,
            event_type=EventType.REQUEST_CREATED,
            actor=events.app(app.client_id),
            details={"app_id": str(app.id), "scopes": format_scopes(requested)},
            occurred_at=now,
        )
        if grant is not None:
            await announce_more_access(session, school, app, admin, requested - held)
    return ConsentView(
        pending=pending,
        app=app,
        developer_name=developer.name if developer is not None else "",
        school=school,
        admin=admin,
        grant=grant,
        already_granted=_scopes(held),
        new_required=_scopes((requested & required) - held),
        new_optional=_scopes(requested - required - held),
        groups=await group_choices(session, keyring, school.id, now.date()) if choices else {},
        students=await student_choices(session, keyring, school.id, now.date()) if choices else [],
        audience=Audience.of(grant),
    )


async def approve(
    session: AsyncSession, view: ConsentView, decision: Decision, *, issuer: str, now: datetime
) -> str:
    """Create or widen the grant, record it, and return where to send the browser (with a code).

    Call `check` first: this trusts the decision.
    """
    await complete(session, view.pending, now)
    added = {scope.name for scope in view.new_required} | decision.optional
    audience = Audience.chosen(
        decision.groups if decision.audience_kind == "groups" else None, decision.exclude
    )
    before = grant_state(view.grant) if view.grant is not None else None
    grant, created = await _widen(session, view, expand(added), audience, now)
    for scope in sort_scopes(added):
        if CATALOGUE[scope].sensitive:
            await session.merge(
                SensitiveApproval(grant_id=grant.id, scope=scope, admin_id=view.admin.id, approved_at=now)
            )
    await record_event(
        session,
        school_id=view.school.id,
        event_type=EventType.GRANT_APPROVED,
        actor=events.admin(view.admin.id),
        details={
            "grant_id": str(grant.id),
            "app_id": str(view.app.id),
            "scopes_added": format_scopes(added),
            "scopes": grant.scopes,
            "sensitive_approved": format_scopes(s for s in added if CATALOGUE[s].sensitive),
            "audience": audience.summary(),
            "incremental": view.grant is not None,
        },
        occurred_at=now,
    )
    await record_receipt(
        session,
        grant,
        ReceiptDecision.APPROVED if created else ReceiptDecision.WIDENED,
        actor=events.admin(view.admin.id),
        now=now,
    )
    if created or before is None:
        await queue_grant_event(session, grant, WebhookEvent.GRANT_CREATED, now)
    elif grant_state(grant) != before:
        await queue_grant_event(session, grant, WebhookEvent.GRANT_UPDATED, now, before=before)
    code = await issue_code(
        session,
        app_id=view.app.id,
        grant_id=grant.id,
        school_id=grant.school_id,
        redirect_uri=view.pending.redirect_uri,
        code_challenge=view.pending.code_challenge,
        scopes=effective_scopes(parse_scope_string(view.pending.scopes), grant.scope_set),
        now=now,
    )
    return redirect_location(
        view.pending.redirect_uri, {"code": code, "state": view.pending.state}, issuer=issuer
    )


async def _widen(
    session: AsyncSession, view: ConsentView, added: frozenset[str], audience: Audience, now: datetime
) -> tuple[Grant, bool]:
    """The live grant with `added` scopes and the new audience, or a new grant if there is none (True).

    Two admins approving at once: the partial unique index lets one insert win; the other widens it.
    """
    grant = await live_grant(session, view.school.id, view.app.id)
    if grant is None:
        try:
            async with session.begin_nested():
                grant = Grant(
                    school_id=view.school.id,
                    app_id=view.app.id,
                    scopes=format_scopes(added),
                    approved_by=view.admin.id,
                )
                grant.audience_json = audience.stored_json()
                session.add(grant)
            return grant, True
        except IntegrityError:
            grant = await live_grant(session, view.school.id, view.app.id)
            if grant is None:
                raise
    grant.scopes = format_scopes(grant.scope_set | added)
    grant.audience_json = audience.stored_json()
    grant.approved_by = view.admin.id
    grant.updated_at = now
    await session.flush()
    return grant, False


async def deny(session: AsyncSession, view: ConsentView, *, issuer: str, now: datetime) -> str:
    """End the request, record the refusal, and return the app's redirect with `access_denied`."""
    await complete(session, view.pending, now)
    await record_event(
        session,
        school_id=view.school.id,
        event_type=EventType.REQUEST_DENIED,
        actor=events.admin(view.admin.id),
        details={"app_id": str(view.app.id), "scopes": view.pending.scopes},
        occurred_at=now,
    )
    return denied_location(view.pending, issuer=issuer, description="The school declined the request.")


async def refuse_for_school(
    session: AsyncSession, pending: AuthorizationRequest, *, issuer: str, now: datetime
) -> str:
    """The admin signed in is not an admin of the school the app asked for: end the request."""
    await complete(session, pending, now)
    return denied_location(
        pending, issuer=issuer, description="The signed-in admin does not administer the requested school."
    )
