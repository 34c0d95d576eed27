"""Safe outbound calls (issue 14, item 4): only globally routable addresses, resolved once; https outside
development; no redirect followed; 10 s at most; at most 1 KiB of the answer read. Every refusal happens
before a connection, fails the message at once and is logged."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.base import utcnow
from gateway.db.session import Database
from gateway.webhooks import outbound, secrets
from gateway.webhooks.delivery import DeliveryReport, Outbound, deliver_due
from gateway.webhooks.events import WebhookEvent
from gateway.webhooks.outbox import enqueue
from tests.support.webhook_receiver import Receiver, webhook_receiver
from tests.support.world import World

BODY = b'{"type":"ping"}'


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback address"),
        ("127.8.9.10", "loopback address"),
        ("::1", "loopback address"),
        ("::ffff:127.0.0.1", "loopback address"),  # IPv4-mapped
        ("10.0.0.1", "private or reserved address"),
        ("172.16.5.4", "private or reserved address"),
        ("192.168.1.1", "private or reserved address"),
        ("fd00::1", "private or reserved address"),
        ("100.64.0.1", "private or reserved address"),  # carrier-grade NAT
        ("0.0.0.0", "private or reserved address"),  # noqa: S104 (an address refused, not bound)
        ("169.254.169.254", "link-local address"),  # cloud metadata
        ("fe80::1", "link-local address"),
        ("224.0.0.1", "multicast address"),
        ("ff02::1", "multicast address"),
        ("240.0.0.1", "private or reserved address"),
    ],
)
def test_only_globally_routable_addresses_may_be_called(address: str, reason: str) -> None:
    assert outbound.address_refused(address) == reason


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "81.2.69.160"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert outbound.address_refused(address) is None


async def _never(host: str, port: int) -> list[str]:
    raise AssertionError("a literal address is never looked up")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1/webhooks", "loopback address"),
        ("https://10.0.0.1/webhooks", "private or reserved address"),
        ("https://169.254.169.254/latest/meta-data/", "link-local address"),
        ("https://[::1]:8443/webhooks", "loopback address"),
        ("http://8.8.8.8/webhooks", "https required"),
        ("ftp://8.8.8.8/webhooks", "https required"),
    ],
)
async def test_a_refused_url_is_refused_before_any_connection(url: str, reason: str) -> None:
    with pytest.raises(outbound.Refused) as refused:
        await outbound.post(url, BODY, {}, allow_http=False, allow_private=False, resolver=_never)
    assert refused.value.reason == reason


async def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    with pytest.raises(outbound.Refused) as refused:  # localhost: /etc/hosts, no network
        await outbound.post("https://localhost/webhooks", BODY, {}, allow_http=False, allow_private=False)
    assert refused.value.reason == "loopback address"

    async def rebinding(host: str, port: int) -> list[str]:
        assert (host, port) == ("hooks.example.org", 443)
        return ["93.184.216.34", "10.1.2.3"]  # one public, one private: refused whole

    with pytest.raises(outbound.Refused) as refused:
        await outbound.post(
            "https://hooks.example.org/in",
            BODY,
            {},
            allow_http=False,
            allow_private=False,
            resolver=rebinding,
        )
    assert refused.value.reason == "private or reserved address"


async def test_the_connection_goes_to_the_address_checked_with_the_host_named(receiver: Receiver) -> None:
    """The resolver is asked once; the request reaches that address, with the original host in `Host`."""
    port = receiver.url.split(":")[2].split("/")[0]
    asked: list[str] = []

    async def once(host: str, port_number: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    outcome = await outbound.post(
        f"http://hooks.example.org:{port}/webhooks",
        BODY,
        {},
        allow_http=True,
        allow_private=True,
        resolver=once,
    )
    assert outcome.delivered
    assert asked == ["hooks.example.org"]
    assert receiver.deliveries[0].headers["host"] == f"hooks.example.org:{port}"


async def test_a_redirect_is_not_followed(receiver: Receiver) -> None:
    receiver.answer(302, location="http://10.0.0.1/internal")
    outcome = await outbound.post(receiver.url, BODY, {}, allow_http=True, allow_private=True)
    assert (outcome.status, outcome.error) == (302, "redirect not followed")
    assert len(receiver.deliveries) == 1


async def test_at_most_1_kib_of_the_answer_is_read(receiver: Receiver) -> None:
    receiver.answer(200, body=b"x" * 100_000)
    outcome = await outbound.post(receiver.url, BODY, {}, allow_http=True, allow_private=True)
    assert outcome.delivered
    assert len(outcome.excerpt) == outbound.MAX_RESPONSE_BYTES


async def test_a_slow_receiver_times_out(receiver: Receiver) -> None:
    receiver.answer(200, delay=2.0)
    outcome = await outbound.post(receiver.url, BODY, {}, allow_http=True, allow_private=True, seconds=0.5)
    assert (outcome.status, outcome.error) == (None, "timed out")


async def test_nothing_listening_is_a_failure_not_an_error() -> None:
    from tests.support.server import free_port

    outcome = await outbound.post(
        f"http://127.0.0.1:{free_port()}/webhooks", BODY, {}, allow_http=True, allow_private=True
    )
    assert (outcome.status, outcome.error) == (None, "could not connect")


async def test_a_refused_address_fails_the_message_at_once_and_is_logged(
    session: AsyncSession,
    test_database: Database,
    world: World,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = await world.app()
    app.webhook_url = receiver.url  # loopback: refused without GATEWAY_WEBHOOK_ALLOW_PRIVATE
    await secrets.rotate(session, world.keyring, app.id, utcnow())
    message = await enqueue(session, app.id, WebhookEvent.PING, {}, utcnow())
    assert message is not None
    await session.commit()
    with caplog.at_level(logging.WARNING, logger="gateway.webhooks.delivery"):
        report = await deliver_due(test_database.sessionmaker, world.keyring, Outbound(allow_http=True))
    assert report == DeliveryReport(failed=1)
    assert receiver.deliveries == []
    await session.refresh(message)
    assert message.failed_at is not None
    assert message.last_error == "loopback address"
    refused = [record for record in caplog.records if record.getMessage() == "webhook refused"]
    assert len(refused) == 1
    assert getattr(refused[0], "reason", None) == "loopback address"
    assert receiver.url not in caplog.text  # the log names the app and the reason, not the URL


async def test_in_development_loopback_is_allowed_and_nothing_else(receiver: Receiver) -> None:
    """The demo's sample app listens on 127.0.0.1: development allows loopback, never a private network."""
    outcome = await outbound.post(
        receiver.url, BODY, {}, allow_http=True, allow_private=False, allow_loopback=True
    )
    assert outcome.delivered
    for url in ("http://10.0.0.1/webhooks", "http://169.254.169.254/latest/meta-data/"):
        with pytest.raises(outbound.Refused):
            await outbound.post(url, BODY, {}, allow_http=True, allow_private=False, allow_loopback=True)
