"""A school's grants (SPEC §3.3, §3.6, §4): read them, narrow them, revoke them.

- **Read**: the grant with its app, scopes (required or optional for the app, sensitive or not), who
  approved each sensitive scope and when, the audience, live token counts and the last data access.
- **Narrow**: drop optional scopes and shrink the audience; `consent.rules.plan_narrowing` decides whether
  a request narrows. The change is one guarded UPDATE on the grant as it was read. Sensitive approvals
  of removed scopes go.
- **Revoke**: `revoke_grant` ends the grant and its refresh tokens; access tokens die at their next use.

Both changes take effect on the very next request: the bearer check loads the live grant every time and
intersects the token's scopes with the grant's. Each is an event in the school's authorisation log,
yields a signed consent receipt (`consent.receipts`) and queues the app's webhook (`webhooks`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Final, NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.models import App
from gateway.audit.events import EventType
from gateway.audit.service import record_event
from gateway.consent.audience import Audience
from gateway.consent.choices import group_choices, student_choices
from gateway.consent.models import Grant, SensitiveApproval
from gateway.consent.receipts import ReceiptDecision, record_receipt
from gateway.consent.repository import GrantNotFound, GrantState, SchoolGrants, end_grant, is_revoked
from gateway.consent.rules import Narrowing, plan_narrowing, required_scopes
from gateway.developers.models import Developer
from gateway.errors import Conflict
from gateway.keys.keyring import Keyring
from gateway.scopes import ALWAYS_GRANTED, CATALOGUE, Scope, format_scopes, sort_scopes
from gateway.tokens.refresh import revoke_for_grant
from gateway.webhooks.events import WebhookEvent
from gateway.webhooks.grant_events import grant_state, queue_grant_event

MAX_PAGE: Final = 500


class GrantEnded(Conflict):
    slug, title = "grant-revoked", "Grant already revoked"

    def __init__(self) -> None:
        super().__init__("This grant has been revoked: it can no longer be narrowed or revoked.")


class GrantChanged(Conflict):
    slug, title = "grant-changed", "Grant changed meanwhile"

    def __init__(self) -> None:
        super().__init__("The grant changed while this request was handled. Read it again, then retry.")


async def revoke_grant(
    session: AsyncSession,
    grant: Grant,
    *,
    actor: str,
    event_type: EventType = EventType.GRANT_REVOKED,
    reason: str | None = None,
    now: datetime,
) -> bool:
    """End `grant` (guarded: False if it was already ended) and every refresh token issued under it.

    Every ending goes through here, so each yields its receipt: `disconnected` when the app ended it
    (`app.disconnected`), else `revoked`. `reason` (e.g. `app_deleted`) goes into the event's details."""
    if not await end_grant(session, grant, actor=actor, now=now):
        return False
    await revoke_for_grant(session, grant.id, now=now)
    await session.refresh(grant)
    await record_event(
        session,
        school_id=grant.school_id,
        event_type=event_type,
        actor=actor,
        details={"grant_id": str(grant.id), "app_id": str(grant.app_id)}
        | ({"reason": reason} if reason is not None else {}),
        occurred_at=now,
    )
    disconnected = event_type == EventType.APP_DISCONNECTED
    decision = ReceiptDecision.DISCONNECTED if disconnected else ReceiptDecision.REVOKED
    await record_receipt(session, grant, decision, actor=actor, now=now)
    webhook = WebhookEvent.APP_DISCONNECTED if disconnected else WebhookEvent.GRANT_REVOKED
    await queue_grant_event(session, grant, webhook, now, actor=actor, reason=reason)
    return True


@dataclass(frozen=True, slots=True)
class GrantedScope:
    scope: Scope
    required: bool  # required by the app (or always granted): goes only with the whole grant
    approval: SensitiveApproval | None  # for a sensitive scope: who approved it, when


@dataclass(frozen=True, slots=True)
class GrantSummary:
    grant: Grant
    app: App
    developer_name: str
    last_access_at: datetime | None

    @property
    def audience(self) -> Audience:
        return Audience.of(self.grant)

    @property
    def scopes(self) -> tuple[Scope, ...]:
        return tuple(CATALOGUE[name] for name in sort_scopes(self.grant.scope_set))


@dataclass(frozen=True, slots=True)
class GrantView(GrantSummary):
    granted: tuple[GrantedScope, ...]
    refresh_families: int  # live refresh-token families: each one a running connection of the app
    access_tokens: int  # unexpired access tokens still usable (none once the grant is revoked)


class GrantPosition(NamedTuple):
    """Where a page of grants ends (newest first): its last grant's creation time and id."""

    created_at: datetime
    grant_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class GrantPage:
    grants: list[GrantSummary]
    last: GrantPosition | None  # where the next page starts; None when this page is the last


async def list_grants(
    session: AsyncSession,
    school_id: uuid.UUID,
    *,
    state: GrantState = GrantState.LIVE,
    limit: int = 100,
    after: GrantPosition | None = None,
) -> GrantPage:
    """One page of the school's grants in `state`, newest first, starting after `after`."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}")
    repo = SchoolGrants(session, school_id)
    rows = await repo.page(state, limit=limit + 1, after=after)
    more = len(rows) > limit
    rows = rows[:limit]
    last = await repo.last_access([grant.id for grant, _app, _name in rows])
    return GrantPage(
        [GrantSummary(grant, app, name or "", last.get(grant.id)) for grant, app, name in rows],
        GrantPosition(rows[-1][0].created_at, rows[-1][0].id) if more else None,
    )


async def read_grant(
    session: AsyncSession, school_id: uuid.UUID, grant_id: uuid.UUID, *, now: datetime
) -> GrantView:
    repo = SchoolGrants(session, school_id)
    grant = await repo.get(grant_id)
    app = await session.get(App, grant.app_id)
    if app is None:  # the apps row cascades to its grants, so this is a race with a deletion
        raise GrantNotFound
    developer = await session.get(Developer, app.developer_id)
    required = required_scopes(app) | ALWAYS_GRANTED
    approvals = await repo.approvals(grant.id)
    granted = tuple(
        GrantedScope(
            CATALOGUE[name], name in required, approvals.get(name) if CATALOGUE[name].sensitive else None
        )
        for name in sort_scopes(grant.scope_set)
    )
    families, tokens = await repo.token_counts(grant, now)
    return GrantView(
        grant=grant,
        app=app,
        developer_name=developer.name if developer is not None else "",
        last_access_at=(await repo.last_access([grant.id])).get(grant.id),
        granted=granted,
        refresh_families=families,
        access_tokens=tokens,
    )


async def narrow(
    session: AsyncSession,
    keyring: Keyring,
    school_id: uuid.UUID,
    grant_id: uuid.UUID,
    request: Narrowing,
    *,
    actor: str,
    now: datetime,
) -> GrantView:
    """Narrow a live grant of the school and record `grant.narrowed`; the next request sees it."""
    repo = SchoolGrants(session, school_id)
    grant = await repo.get(grant_id)
    if grant.revoked_at is not None:
        raise GrantEnded
    app = await session.get(App, grant.app_id)
    if app is None:
        raise GrantNotFound
    current = Audience.of(grant)
    known_groups: set[str] = set()
    known_students: set[str] = set()
    if request.audience is not None:
        groups, students = await _choices_needed(session, keyring, school_id, current, request.audience, now)
        known_groups, known_students = groups, students
    before = grant_state(grant)
    plan = plan_narrowing(
        grant.scope_set,
        required_scopes(app),
        current,
        request,
        known_groups=known_groups,
        known_students=known_students,
    )
    if not await repo.narrow(grant, plan, now):
        raise GrantEnded if await is_revoked(session, grant.id) else GrantChanged
    await record_event(
        session,
        school_id=school_id,
        event_type=EventType.GRANT_NARROWED,
        actor=actor,
        details={
            "grant_id": str(grant.id),
            "app_id": str(grant.app_id),
            "scopes_removed": format_scopes(plan.removed),
            "scopes": grant.scopes,
            "audience": plan.audience.summary(),
        },
        occurred_at=now,
    )
    await record_receipt(session, grant, ReceiptDecision.NARROWED, actor=actor, now=now)
    await queue_grant_event(session, grant, WebhookEvent.GRANT_NARROWED, now, before=before)
    return await read_grant(session, school_id, grant.id, now=now)


async def _choices_needed(
    session: AsyncSession,
    keyring: Keyring,
    school_id: uuid.UUID,
    current: Audience,
    new: Audience,
    now: datetime,
) -> tuple[set[str], set[str]]:
    """Decrypt the school's groups or pupils only when the request names ones the grant does not."""
    groups: set[str] = set()
    students: set[str] = set()
    if current.groups is None and new.groups:
        found = await group_choices(session, keyring, school_id, now.date())
        groups = {choice.id for kind in found.values() for choice in kind}
    if set(new.exclude) - set(current.exclude):
        students = {choice.id for choice in await student_choices(session, keyring, school_id, now.date())}
    return groups, students


async def revoke(
    session: AsyncSession, school_id: uuid.UUID, grant_id: uuid.UUID, *, actor: str, now: datetime
) -> GrantView:
    """Revoke a live grant of the school: refresh tokens end now, access tokens at their next use."""
    grant = await SchoolGrants(session, school_id).get(grant_id)
    if grant.revoked_at is not None or not await revoke_grant(session, grant, actor=actor, now=now):
        raise GrantEnded
    return await read_grant(session, school_id, grant.id, now=now)
