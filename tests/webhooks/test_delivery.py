"""Webhooks end to end (issue 14): every grant change reaches a real receiver on loopback once, signed
(verified with the `standardwebhooks` library as an app would), with the right payload; a change that
rolls back sends nothing; failures are retried with backoff, given up after 3 days, and an endpoint that
answers 410 or fails for 3 days is disabled and its developer emailed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.models import App
from gateway.consent.grants import revoke_grant
from gateway.consent.models import Grant
from gateway.consent.receipts import bind_signer
from gateway.db.base import utcnow
from gateway.db.session import Database
from gateway.email.models import OutboxMessage
from gateway.keys.keyring import Keyring
from gateway.webhooks import secrets
from gateway.webhooks.delivery import DISABLE_AFTER, RETRY_FOR, DeliveryReport, Outbound, deliver_due
from gateway.webhooks.events import WebhookEvent
from gateway.webhooks.models import WebhookEndpoint, WebhookMessage
from gateway.webhooks.outbox import enqueue
from tests.support.consent_flow import Party
from tests.support.grant_story import approve_widen_narrow_revoke
from tests.support.http import bearer
from tests.support.webhook_receiver import Receiver, webhook_receiver
from tests.support.world import World

LOOPBACK = Outbound(allow_http=True, allow_private=True)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


async def hook(session: AsyncSession, keyring: Keyring, app: App, receiver: Receiver) -> None:
    """Point the app's webhooks at the receiver and give the receiver the app's new secret."""
    app.webhook_url = receiver.url
    receiver.secret = await secrets.rotate(session, keyring, app.id, utcnow())
    await session.commit()


async def deliver(database: Database, keyring: Keyring, **kwargs: Any) -> DeliveryReport:
    return await deliver_due(database.sessionmaker, keyring, LOOPBACK, **kwargs)


async def test_every_grant_change_arrives_once_signed_with_what_changed(
    browser: httpx.AsyncClient,
    client: httpx.AsyncClient,
    party: Party,
    session: AsyncSession,
    test_database: Database,
    receiver: Receiver,
) -> None:
    await hook(session, party.keyring, party.app, receiver)
    grant = await approve_widen_narrow_revoke(
        browser,
        client,
        party,
        session,
        narrowing={
            "remove_scopes": ["students.demographics"],
            "audience": {"groups": None, "exclude": ["stu-00003"]},
        },
    )

    report = await deliver(test_database, party.keyring)

    assert report == DeliveryReport(delivered=4)
    assert len(receiver.deliveries) == 4
    assert all(delivery.verified for delivery in receiver.deliveries)
    assert len({delivery.id for delivery in receiver.deliveries}) == 4
    created, updated, narrowed_hook, revoked = (delivery.json for delivery in receiver.deliveries)
    assert [body["type"] for body in (created, updated, narrowed_hook, revoked)] == [
        "grant.created", "grant.updated", "grant.narrowed", "grant.revoked",
    ]  # fmt: skip
    school = {"id": str(party.school.id), "urn": party.school.urn}
    assert created["data"]["grant_id"] == str(grant.id)
    assert created["data"]["school"] == school
    assert created["data"]["scopes"] == ["school", "groups", "students.basic"]
    assert created["data"]["audience"] == {"kind": "school", "group_ids": None}
    assert "first_name" in created["data"]["fields"]["students"]
    assert updated["data"]["added"]["scopes"] == ["students.demographics", "students.sen"]
    assert "dob" in updated["data"]["added"]["fields"]["students"]
    assert "sen_provision" in updated["data"]["added"]["fields"]["students"]
    removed = narrowed_hook["data"]["removed"]
    assert removed["scopes"] == ["students.demographics"]
    assert set(removed["fields"]["students"]) >= {"dob", "gender"}
    assert "first_name" not in removed["fields"]["students"]
    assert removed["excluded_student_ids"] == ["stu-00003"]
    assert "students.demographics" not in narrowed_hook["data"]["scopes"]
    assert revoked["data"] == {
        "grant_id": str(grant.id),
        "school": school,
        "ended_by": "school",
        "revoked_at": revoked["data"]["revoked_at"],
    }
    for body in (created, updated, narrowed_hook, revoked):  # ids, scope and field names: no pupil data
        assert "Corrow" not in str(body)
        assert set(body) == {"type", "timestamp", "data"}
    # Delivered once: another round sends nothing.
    assert await deliver(test_database, party.keyring) == DeliveryReport()


async def test_the_app_disconnecting_and_its_deletion_are_told_too(
    client: httpx.AsyncClient,
    world: World,
    session: AsyncSession,
    test_database: Database,
    receiver: Receiver,
) -> None:
    developer = await world.developer()
    app = await world.app(developer=developer)
    await hook(session, world.keyring, app, receiver)
    first_school, second_school = await world.school(), await world.school()
    disconnected = await world.grant(first_school, app)
    deleted_with_app = await world.grant(second_school, app)
    token = await world.school_token(app, disconnected)
    await session.commit()
    assert (await client.post("/api/v1/app/disconnect", headers=bearer(token.token))).status_code == 204
    deleted = await client.delete(f"/developer/v1/apps/{app.client_id}", headers=bearer(developer.key))
    assert deleted.status_code == 204, deleted.text
    assert await session.scalar(select(App.id).where(App.id == app.id)) is None

    report = await deliver(test_database, world.keyring)

    assert report == DeliveryReport(delivered=2)
    assert all(delivery.verified for delivery in receiver.deliveries)
    by_type = {delivery.json["type"]: delivery.json["data"] for delivery in receiver.deliveries}
    assert by_type["app.disconnected"]["grant_id"] == str(disconnected.id)
    assert by_type["grant.revoked"]["grant_id"] == str(deleted_with_app.id)
    assert by_type["grant.revoked"]["ended_by"] == "app_deleted"


async def test_a_change_that_rolls_back_sends_nothing(
    session: AsyncSession, test_database: Database, world: World, receiver: Receiver
) -> None:
    app = await world.app()
    await hook(session, world.keyring, app, receiver)
    async with test_database.sessionmaker() as other:
        await enqueue(
            other, app.id, WebhookEvent.PING, {"client_id": app.client_id, "message": "x"}, utcnow()
        )
        await other.rollback()
    assert await deliver(test_database, world.keyring) == DeliveryReport()
    assert receiver.deliveries == []


async def queued(session: AsyncSession, app: App) -> WebhookMessage:
    message = await enqueue(
        session, app.id, WebhookEvent.PING, {"client_id": app.client_id, "message": "test"}, utcnow()
    )
    assert message is not None
    await session.commit()
    return message


async def test_a_failure_is_retried_later_and_then_delivered_with_the_same_id(
    session: AsyncSession, test_database: Database, world: World, receiver: Receiver
) -> None:
    app = await world.app()
    await hook(session, world.keyring, app, receiver)
    message = await queued(session, app)
    receiver.answer(503)

    assert await deliver(test_database, world.keyring) == DeliveryReport(retried=1)
    await session.refresh(message)
    assert message.attempts == 1
    assert message.last_status == 503
    assert message.last_error == "answered 503"
    assert message.next_attempt_at is not None
    wait = message.next_attempt_at - utcnow()
    assert timedelta(seconds=4) < wait <= timedelta(seconds=10)  # 10 s, less up to half at random
    assert await deliver(test_database, world.keyring) == DeliveryReport()  # not due yet

    later = message.next_attempt_at + timedelta(seconds=1)
    assert await deliver(test_database, world.keyring, now=later) == DeliveryReport(delivered=1)
    assert [delivery.id for delivery in receiver.deliveries] == [message.id, message.id]
    assert all(delivery.verified for delivery in receiver.deliveries)
    endpoint = await session.get(WebhookEndpoint, app.id, populate_existing=True)
    assert endpoint is not None
    assert endpoint.failing_since is None  # a success resets the clock


async def test_a_message_is_given_up_after_3_days(
    session: AsyncSession, test_database: Database, world: World, receiver: Receiver
) -> None:
    app = await world.app()
    await hook(session, world.keyring, app, receiver)
    message = await queued(session, app)
    receiver.answer(500)
    late = message.created_at + RETRY_FOR - timedelta(seconds=1)
    assert await deliver(test_database, world.keyring, now=late) == DeliveryReport(failed=1)
    await session.refresh(message)
    assert message.failed_at is not None
    assert message.next_attempt_at is None


async def test_410_gone_disables_the_endpoint_at_once_and_tells_the_developer(
    session: AsyncSession, test_database: Database, world: World, receiver: Receiver
) -> None:
    app = await world.app()
    await hook(session, world.keyring, app, receiver)
    await queued(session, app)
    receiver.answer(410)
    assert await deliver(test_database, world.keyring) == DeliveryReport(failed=1)
    endpoint = await session.get(WebhookEndpoint, app.id, populate_existing=True)
    assert endpoint is not None
    assert endpoint.disabled_at is not None
    assert endpoint.disabled_reason == "the endpoint answered 410 Gone"
    mail = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at.desc()))).first()
    assert mail is not None
    assert mail.subject == f"Webhooks to {app.name} are disabled"
    assert app.client_id in mail.body_text
    # While disabled, messages fail without a send.
    await queued(session, app)
    assert await deliver(test_database, world.keyring) == DeliveryReport(failed=1)
    assert len(receiver.deliveries) == 1


async def test_an_endpoint_failing_for_3_days_is_disabled(
    session: AsyncSession, test_database: Database, world: World, receiver: Receiver
) -> None:
    app = await world.app()
    await hook(session, world.keyring, app, receiver)
    session.add(WebhookEndpoint(app_id=app.id, failing_since=utcnow() - DISABLE_AFTER))
    await queued(session, app)
    receiver.answer(500)
    assert await deliver(test_database, world.keyring) == DeliveryReport(retried=1)
    endpoint = await session.get(WebhookEndpoint, app.id, populate_existing=True)
    assert endpoint is not None
    assert endpoint.disabled_reason == "every delivery failed for 3 days"


async def test_an_app_without_a_webhook_url_gets_no_message(session: AsyncSession, world: World) -> None:
    app = await world.app()
    assert app.webhook_url is None
    assert await enqueue(session, app.id, WebhookEvent.PING, {}, utcnow()) is None


async def test_a_grant_change_rolled_back_with_its_request_queues_nothing(
    session: AsyncSession, test_database: Database, world: World, receiver: Receiver
) -> None:
    app = await world.app()
    await hook(session, world.keyring, app, receiver)
    grant = await world.grant(await world.school(), app)
    await session.commit()
    async with test_database.sessionmaker() as request:
        bind_signer(request, world.keyring, world.issuer)
        mine = await request.get(Grant, grant.id)
        assert mine is not None
        assert await revoke_grant(request, mine, actor="operator", now=utcnow())
        assert await request.scalar(select(WebhookMessage.id).where(WebhookMessage.app_id == app.id))
        await request.rollback()
    assert await session.scalar(select(WebhookMessage.id).where(WebhookMessage.app_id == app.id)) is None
    assert await deliver(test_database, world.keyring) == DeliveryReport()
