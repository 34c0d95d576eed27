"""Queue the webhook of a grant change, in the transaction that makes it: called by `consent` beside each
consent receipt (approve, widen, narrow, revoke, disconnect)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.consent.audience import Audience
from gateway.consent.models import Grant
from gateway.schools.models import School
from gateway.scopes import expand
from gateway.webhooks import events
from gateway.webhooks.events import GrantState, WebhookEvent
from gateway.webhooks.outbox import enqueue

__all__ = ["grant_state", "queue_grant_event"]


def grant_state(grant: Grant) -> GrantState:
    """The grant's scopes (implied ones included) and audience as they are now."""
    return GrantState(scopes=expand(grant.scope_set), audience=Audience.of(grant))


async def queue_grant_event(
    session: AsyncSession,
    grant: Grant,
    event: WebhookEvent,
    now: datetime,
    *,
    before: GrantState | None = None,
    actor: str = "",
    reason: str | None = None,
) -> None:
    """`before`: the grant's state before a widening or narrowing; `actor`, `reason`: who ended it."""
    school = await session.get(School, grant.school_id)
    if school is None:
        raise LookupError("a grant's webhook needs its school")
    ids = (grant.id, school.id, school.urn)
    if event is WebhookEvent.GRANT_CREATED:
        data = events.grant_created(*ids, grant_state(grant))
    elif event is WebhookEvent.GRANT_UPDATED and before is not None:
        data = events.grant_updated(*ids, before, grant_state(grant))
    elif event is WebhookEvent.GRANT_NARROWED and before is not None:
        data = events.grant_narrowed(*ids, before, grant_state(grant))
    elif event is WebhookEvent.GRANT_REVOKED:
        data = events.grant_revoked(*ids, events.ended_by(actor, reason), now)
    elif event is WebhookEvent.APP_DISCONNECTED:
        data = events.app_disconnected(*ids, now)
    else:
        raise ValueError(f"{event.value} is not a grant change (or lacks the state before it)")
    await enqueue(session, grant.app_id, event, data, now)
