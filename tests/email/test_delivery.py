"""deliver_due: through a real SMTP server, retried with backoff while it is down, given up on in the end;
`.eml` files in development; nothing personal or secret in the logs."""

from __future__ import annotations

import asyncio
import logging
import stat
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.db.base import utcnow
from gateway.email.models import OutboxMessage
from gateway.email.outbox import enqueue
from gateway.email.sender import (
    CLAIM_LEASE,
    MAX_ATTEMPTS,
    DeliveryReport,
    deliver_due,
    purge_finished,
    retry_delay,
)
from gateway.email.smtp_url import parse_smtp_url
from gateway.email.transports import FileTransport, Mail, SmtpTransport, transport_from_settings
from gateway.settings import Settings
from tests.support.smtp import REFUSED_DOMAIN, SMTP_PASSWORD, SMTP_USER, SmtpServer

SENDER = "noreply@gateway.example.org"
TO = "head.teacher@school.example.org"
SUBJECT = "Reset your gateway password"
BODY = "Choose a new password within the hour:\nhttps://gateway.example.org/reset/gw_rl_SECRETLINK\n"

Sessions = async_sessionmaker[AsyncSession]

# The test server takes a password without TLS, which aiosmtpd rightly warns about: it is on loopback.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


def smtp_transport(server: SmtpServer) -> SmtpTransport:
    url = f"smtp://{SMTP_USER}:{quote(SMTP_PASSWORD, safe='')}@127.0.0.1:{server.port}?starttls=false"
    return SmtpTransport(parse_smtp_url(url), sender=SENDER, timeout=5)


@dataclass
class FakeTransport:
    error: BaseException | None = None
    sent: list[Mail] = field(default_factory=list)

    async def send(self, mail: Mail) -> None:
        if self.error is not None:
            raise self.error
        self.sent.append(mail)


async def queued(session: AsyncSession, to: str = TO) -> OutboxMessage:
    message = await enqueue(session, to=to, subject=SUBJECT, body=BODY)
    await session.commit()
    return message


async def reload(session: AsyncSession, message: OutboxMessage) -> OutboxMessage:
    await session.refresh(message)
    return message


def assert_nothing_personal_logged(caplog: pytest.LogCaptureFixture) -> None:
    ours = [record for record in caplog.records if record.name.startswith("gateway.")]
    assert ours
    logged = " ".join(repr(vars(record)) for record in ours)
    for secret in (TO, "head.teacher", "SECRETLINK", SMTP_PASSWORD, REFUSED_DOMAIN, SUBJECT):
        assert secret not in logged


async def test_delivered_through_a_real_smtp_server(
    session: AsyncSession, sessions: Sessions, smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.email")
    smtp_server.start()
    message = await queued(session)
    now = utcnow()

    assert await deliver_due(sessions, smtp_transport(smtp_server), now=now) == DeliveryReport(sent=1)

    [envelope] = smtp_server.inbox.envelopes
    assert smtp_server.inbox.logins == [SMTP_USER.encode()]
    assert envelope.mail_from == SENDER
    assert envelope.rcpt_tos == [TO]
    assert isinstance(envelope.original_content, bytes)
    received = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
    assert received["From"] == SENDER
    assert received["To"] == TO
    assert received["Subject"] == SUBJECT
    assert received["Message-ID"] == f"<{message.id}@gateway.example.org>"
    assert received["Auto-Submitted"] == "auto-generated"
    assert received.get_content().replace("\r\n", "\n") == BODY

    row = await reload(session, message)
    assert (row.sent_at, row.attempts, row.last_error, row.failed_at) == (now, 1, None, None)
    assert row.body_text == ""  # the link is gone from the database once it has gone out
    assert await deliver_due(sessions, smtp_transport(smtp_server), now=now) == DeliveryReport()
    assert len(smtp_server.inbox.envelopes) == 1
    assert_nothing_personal_logged(caplog)


async def test_server_down_then_up(
    session: AsyncSession, sessions: Sessions, smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.email")
    message = await queued(session)
    transport = smtp_transport(smtp_server)  # nothing listens on its port yet
    now = utcnow()

    assert await deliver_due(sessions, transport, now=now) == DeliveryReport(deferred=1)
    row = await reload(session, message)
    assert row.attempts == 1
    assert row.sent_at is None
    assert row.failed_at is None
    assert row.last_error == "SMTPConnectError"
    assert now + timedelta(seconds=15) <= row.next_attempt_at <= now + timedelta(seconds=30)
    assert row.body_text == BODY

    smtp_server.start()
    assert await deliver_due(sessions, transport, now=now + timedelta(seconds=10)) == DeliveryReport()
    assert smtp_server.inbox.envelopes == []  # not due yet

    assert await deliver_due(sessions, transport, now=now + timedelta(minutes=1)) == DeliveryReport(sent=1)
    assert [envelope.rcpt_tos for envelope in smtp_server.inbox.envelopes] == [[TO]]
    row = await reload(session, message)
    assert row.attempts == 2
    assert row.sent_at == now + timedelta(minutes=1)
    assert row.last_error is None
    assert_nothing_personal_logged(caplog)


async def test_a_refused_recipient_is_given_up_at_once(
    session: AsyncSession, sessions: Sessions, smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.email")
    smtp_server.start()
    message = await queued(session, to=f"nobody@{REFUSED_DOMAIN}")
    now = utcnow()

    assert await deliver_due(sessions, smtp_transport(smtp_server), now=now) == DeliveryReport(failed=1)
    row = await reload(session, message)
    assert row.failed_at == now
    assert row.sent_at is None
    assert row.last_error == "SMTPRecipientsRefused 550"  # the server's text quoted the address: not kept
    assert row.body_text == ""
    assert smtp_server.inbox.envelopes == []
    assert_nothing_personal_logged(caplog)


async def test_given_up_after_max_attempts_with_growing_waits(
    session: AsyncSession, sessions: Sessions
) -> None:
    message = await queued(session)
    transport = FakeTransport(error=ConnectionResetError("reset by 10.0.0.9 while sending to " + TO))
    now = utcnow()
    waits = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        report = await deliver_due(sessions, transport, now=now)
        row = await reload(session, message)
        assert row.attempts == attempt
        assert row.last_error == "ConnectionResetError"
        if attempt < MAX_ATTEMPTS:
            assert report == DeliveryReport(deferred=1)
            waits.append(row.next_attempt_at - now)
            now = row.next_attempt_at
        else:
            assert report == DeliveryReport(failed=1)
    assert row.failed_at == now
    assert row.body_text == ""
    assert waits[0] <= timedelta(seconds=30)
    assert waits[-1] >= timedelta(minutes=30)
    assert max(waits) <= timedelta(hours=1)
    assert await deliver_due(sessions, transport, now=now + timedelta(days=1)) == DeliveryReport()


def test_retry_delay_doubles_up_to_an_hour_with_jitter() -> None:
    assert retry_delay(1, jitter=lambda: 0.0) == timedelta(seconds=30)
    assert retry_delay(1, jitter=lambda: 1.0) == timedelta(seconds=15)
    assert retry_delay(2, jitter=lambda: 0.0) == timedelta(seconds=60)
    assert retry_delay(7, jitter=lambda: 0.0) == timedelta(seconds=1920)
    assert retry_delay(8, jitter=lambda: 0.0) == timedelta(hours=1)
    assert retry_delay(10_000, jitter=lambda: 0.0) == timedelta(hours=1)
    assert timedelta(minutes=30) <= retry_delay(12) <= timedelta(hours=1)


async def test_a_sender_that_dies_mid_send_leaves_the_message_for_after_its_lease(
    session: AsyncSession, sessions: Sessions
) -> None:
    message = await queued(session)
    now = utcnow()
    with pytest.raises(asyncio.CancelledError):
        await deliver_due(sessions, FakeTransport(error=asyncio.CancelledError()), now=now)
    row = await reload(session, message)
    assert row.attempts == 1
    assert row.next_attempt_at == now + CLAIM_LEASE

    survivor = FakeTransport()
    assert await deliver_due(sessions, survivor, now=now + CLAIM_LEASE / 2) == DeliveryReport()
    assert await deliver_due(sessions, survivor, now=now + CLAIM_LEASE) == DeliveryReport(sent=1)
    assert [mail.id for mail in survivor.sent] == [message.id]
    assert (await reload(session, message)).attempts == 2


async def test_a_message_whose_last_attempt_was_lost_is_given_up(
    session: AsyncSession, sessions: Sessions
) -> None:
    message = await queued(session)
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message.id).values(attempts=MAX_ATTEMPTS)
    )
    await session.commit()
    transport = FakeTransport()
    assert await deliver_due(sessions, transport) == DeliveryReport(failed=1)
    assert transport.sent == []
    row = await reload(session, message)
    assert row.failed_at is not None
    assert row.last_error == "LeaseExpired"


async def test_claimed_messages_are_handed_back_when_the_lease_runs_short(
    session: AsyncSession, sessions: Sessions
) -> None:
    first, second = await queued(session), await queued(session)
    transport = FakeTransport()
    now = utcnow()
    report = await deliver_due(sessions, transport, now=now, lease=timedelta(0))
    assert report == DeliveryReport(released=2)
    assert transport.sent == []
    for message in (first, second):
        row = await reload(session, message)
        assert (row.attempts, row.next_attempt_at, row.sent_at) == (0, now, None)
    assert await deliver_due(sessions, transport, now=now) == DeliveryReport(sent=2)


async def test_batches_take_the_longest_waiting_first(session: AsyncSession, sessions: Sessions) -> None:
    messages = [await queued(session) for _ in range(5)]
    transport = FakeTransport()
    assert await deliver_due(sessions, transport, batch=3) == DeliveryReport(sent=3)
    assert await deliver_due(sessions, transport, batch=3) == DeliveryReport(sent=2)
    assert [mail.id for mail in transport.sent] == [message.id for message in messages]


async def test_file_transport_writes_private_eml_files(
    session: AsyncSession, sessions: Sessions, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.email")
    settings = Settings(environment="test", data_dir=tmp_path, mail_from=SENDER)
    transport = transport_from_settings(settings)
    assert isinstance(transport, FileTransport)
    message = await queued(session)

    assert await deliver_due(sessions, transport) == DeliveryReport(sent=1)

    mail_dir = tmp_path / "mail"
    [written] = list(mail_dir.iterdir())
    assert written.name.endswith(f"-{message.id}.eml")
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert stat.S_IMODE(mail_dir.stat().st_mode) == 0o700
    parsed = BytesParser(policy=policy.default).parsebytes(written.read_bytes())
    assert (parsed["From"], parsed["To"], parsed["Subject"]) == (SENDER, TO, SUBJECT)
    assert parsed.get_content() == BODY
    assert TO not in repr(Mail(message.id, TO, SUBJECT, BODY, message.created_at))
    [record] = [record for record in caplog.records if record.getMessage() == "mail written"]
    assert record.__dict__["file"] == written.name
    assert_nothing_personal_logged(caplog)


async def test_finished_messages_are_purged_after_a_week(session: AsyncSession, sessions: Sessions) -> None:
    now = utcnow()
    old_sent, new_sent, old_failed, pending = [await queued(session) for _ in range(4)]
    ages: dict[OutboxMessage, dict[str, datetime]] = {
        old_sent: {"sent_at": now - timedelta(days=8)},
        new_sent: {"sent_at": now - timedelta(days=1)},
        old_failed: {"failed_at": now - timedelta(days=8)},
        pending: {"next_attempt_at": now - timedelta(days=30)},
    }
    for message, values in ages.items():
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id).values(**values))
    await session.commit()
    assert await purge_finished(sessions, now=now) == 2
    left = set(await session.scalars(select(OutboxMessage.id)))
    assert left == {new_sent.id, pending.id}
    assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 2
