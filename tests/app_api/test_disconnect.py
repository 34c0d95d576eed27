"""`POST /api/v1/app/disconnect`: the app ends its grant; every token of the grant dies at once."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select

from gateway.audit.events import EventType
from gateway.audit.service import list_events
from gateway.consent.models import Grant
from gateway.db.base import utcnow
from gateway.tokens import refresh as refresh_tokens
from gateway.tokens.models import RefreshToken
from tests.support.http import bearer
from tests.support.world import World

DISCONNECT = "/api/v1/app/disconnect"
SCHOOLS = "/api/v1/app/schools"


async def test_disconnect_ends_the_grant_and_every_token(client: httpx.AsyncClient, world: World) -> None:
    app = await world.app()
    school, other_school = await world.school(), await world.school()
    grant = await world.grant(school, app)
    other_grant = await world.grant(other_school, app)
    first, second = await world.school_token(app, grant), await world.school_token(app, grant)
    other_school_token = await world.school_token(app, other_grant)
    await refresh_tokens.add_refresh_token(
        world.session,
        refresh_tokens.new_refresh_token(),
        family_id=uuid.uuid4(),
        app_id=app.id,
        grant_id=grant.id,
        school_id=school.id,
        scopes=grant.scope_set,
        now=utcnow(),
    )
    await world.session.commit()

    response = await client.post(DISCONNECT, headers=bearer(first.token))

    assert response.status_code == 204, response.text
    assert response.content == b""
    stored = await world.session.scalar(
        select(Grant).where(Grant.id == grant.id).execution_options(populate_existing=True)
    )
    assert stored is not None
    assert stored.revoked_at is not None
    assert stored.revoked_by == f"app:{app.client_id}"
    refresh = (
        await world.session.scalars(
            select(RefreshToken)
            .where(RefreshToken.grant_id == grant.id)
            .execution_options(populate_existing=True)
        )
    ).all()
    assert refresh
    assert all(row.revoked_at is not None for row in refresh)
    events = await list_events(world.session, school.id)
    assert [e.event_type for e in events][-1] == EventType.APP_DISCONNECTED
    assert events[-1].actor == f"app:{app.client_id}"

    # The same token, and another token of the same grant: refused at once.
    for token in (first, second):
        again = await client.post(DISCONNECT, headers=bearer(token.token))
        assert again.status_code == 401
        assert 'error="invalid_token"' in again.headers["www-authenticate"]
    # The grant at the other school is untouched, and its token still works.
    assert await world.is_live(other_grant)
    listing = await client.get(SCHOOLS, headers=bearer((await world.app_token(app)).token))
    assert [item["grant_id"] for item in listing.json()["schools"]] == [str(other_grant.id)]
    assert (await client.post(DISCONNECT, headers=bearer(other_school_token.token))).status_code == 204


async def test_disconnect_refuses_query_parameters(client: httpx.AsyncClient, world: World) -> None:
    app = await world.app()
    grant = await world.grant(await world.school(), app)
    token = await world.school_token(app, grant)
    response = await client.post(DISCONNECT + "?now=1", headers=bearer(token.token))
    assert response.status_code == 400
    assert await world.is_live(grant)


async def test_an_app_token_cannot_disconnect(client: httpx.AsyncClient, world: World) -> None:
    app = await world.app()
    grant = await world.grant(await world.school(), app)
    response = await client.post(DISCONNECT, headers=bearer((await world.app_token(app)).token))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    assert await world.is_live(grant)
