"""Forgotten password end to end: the request is answered, the mail goes through a real SMTP server and the
test follows its link."""

from __future__ import annotations

import email
import re
from datetime import timedelta
from email.message import Message
from urllib.parse import quote

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.accounts.reset_requests import answer_reset_requests
from gateway.db.base import utcnow
from gateway.db.session import Database
from gateway.email.sender import deliver_due
from gateway.email.smtp_url import parse_smtp_url
from gateway.email.transports import SmtpTransport
from tests.support.accounts import ISSUER, Account, csrf_from, sign_in, submit_password_form
from tests.support.smtp import SMTP_PASSWORD, SMTP_USER, SmtpServer


async def test_reset_link_arrives_by_smtp_and_works_once(
    browser: httpx.AsyncClient,
    account: Account,
    smtp_server: SmtpServer,
    test_database: Database,
    session: AsyncSession,
) -> None:
    token = await csrf_from(browser, "/forgot-password")
    asked = await browser.post("/forgot-password", data={"email": account.email.upper(), "csrf_token": token})
    assert asked.headers["location"] == "/login?notice=reset_sent"
    unknown = await browser.post(
        "/forgot-password", data={"email": "who@nowhere.example.org", "csrf_token": token}
    )
    assert unknown.headers["location"] == asked.headers["location"]

    sessions: async_sessionmaker[AsyncSession] = test_database.sessionmaker
    answered = await answer_reset_requests(sessions, issuer=ISSUER)  # the mail worker's step before sending
    assert (answered.requests, answered.mailed) == (2, 1)
    transport = SmtpTransport(
        parse_smtp_url(
            f"smtp://{SMTP_USER}:{quote(SMTP_PASSWORD, safe='')}@127.0.0.1:{smtp_server.port}?starttls=false"
        ),
        sender="gateway@synthetic.example.org",
    )
    down = await deliver_due(sessions, transport)
    assert down.sent == 0  # the server is not up yet: the mail stays queued
    smtp_server.start()
    report = await deliver_due(sessions, transport, now=utcnow() + timedelta(hours=2))
    assert report.sent == 1
    [envelope] = smtp_server.inbox.envelopes
    assert envelope.rcpt_tos == [account.email]
    message: Message = email.message_from_bytes(envelope.content)  # type: ignore[arg-type]
    assert message["Subject"] == "Reset your gateway password"
    body = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    path = re.search(r"https?://[^/\s]+(/reset-password\?token=\S+)", body).group(1)  # type: ignore[union-attr]

    new_password = "Gravel-Meadow-6620"
    done = await submit_password_form(browser, path, new_password)
    assert done.headers["location"] == "/login?notice=password_set"
    assert (await sign_in(browser, account.email, new_password)).headers["location"] == "/dashboard"
    assert (await browser.get(path)).status_code == 400  # used
