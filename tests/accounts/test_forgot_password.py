"""`/forgot-password` tells nobody whether an address is an admin's, and cannot flood an inbox (issue 12,
item 3): the page stores the same request for every address and answers the same; the mail worker's step
(`answer_reset_requests`) mails a link only to an active admin, at most once per `RESET_MAIL_INTERVAL`.
Timing is not asserted here: `bench/forgot_password.py` measures it."""

from __future__ import annotations

import asyncio
import functools
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from gateway.accounts.models import AccountLink, Admin, ResetRequest
from gateway.accounts.reset_requests import RESET_MAIL_INTERVAL, ResetAnswers, answer_reset_requests
from gateway.db.base import utcnow
from gateway.db.session import Database
from gateway.email.models import OutboxMessage
from gateway.email.transports import Mail
from gateway.email.worker import OutboxWorker
from gateway.http.throttle import SIGN_IN_LIMIT
from gateway.models import metadata
from tests.support.accounts import ISSUER, PASSWORD, Account, csrf_from, make_account, sign_in

Sessions = async_sessionmaker[AsyncSession]
UNKNOWN = "nobody@synthetic-school.example.org"


@pytest.fixture
def sessions(test_database: Database) -> Sessions:
    return test_database.sessionmaker


async def ask(browser: httpx.AsyncClient, email: str, token: str | None = None) -> httpx.Response:
    token = token or await csrf_from(browser, "/forgot-password")
    return await browser.post("/forgot-password", data={"email": email, "csrf_token": token})


async def reset_mail_to(session: AsyncSession, address: str) -> list[OutboxMessage]:
    rows = await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.to_address == address)
        .order_by(OutboxMessage.created_at)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def waiting(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(ResetRequest)) or 0)


def comparable(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = sorted(
        (name, value) for name, value in response.headers.multi_items() if name != "x-request-id"
    )
    return response.status_code, response.content, headers


async def test_known_and_unknown_addresses_get_the_same_answer(
    browser: httpx.AsyncClient, account: Account, session: AsyncSession
) -> None:
    disabled = await make_account(session, "gone@synthetic-school.example.org")
    await session.execute(update(Admin).where(Admin.id == disabled.admin.id).values(disabled_at=utcnow()))
    await session.commit()
    token = await csrf_from(browser, "/forgot-password")
    answers = [
        await ask(browser, email, token)
        for email in (account.email, account.email.upper(), UNKNOWN, disabled.email, "not an address")
    ]
    first = comparable(answers[0])
    assert first[0] == 303
    assert answers[0].headers["location"] == "/login?notice=reset_sent"
    for answer in answers[1:]:
        assert comparable(answer) == first


async def rows_per_table(connection: AsyncConnection) -> dict[str, int]:
    return {
        table.name: int(await connection.scalar(select(func.count()).select_from(table)) or 0)
        for table in metadata.sorted_tables
    }


async def test_known_and_unknown_addresses_write_the_same_rows(
    browser: httpx.AsyncClient, account: Account, connection: AsyncConnection
) -> None:
    token = await csrf_from(browser, "/forgot-password")
    written = {}
    for email in (account.email, UNKNOWN, account.email.upper(), "who@nowhere.example.org"):
        before = await rows_per_table(connection)
        await ask(browser, email, token)
        after = await rows_per_table(connection)
        written[email] = {
            table: after[table] - count for table, count in before.items() if after[table] != count
        }
    assert list(written.values()) == [{"password_reset_requests": 1}] * 4


async def test_the_worker_mails_admins_only_and_empties_the_queue(
    browser: httpx.AsyncClient, account: Account, session: AsyncSession, sessions: Sessions
) -> None:
    disabled = await make_account(session, "gone@synthetic-school.example.org")
    await session.execute(update(Admin).where(Admin.id == disabled.admin.id).values(disabled_at=utcnow()))
    await session.commit()
    for email in (f"  {account.email.upper()} ", UNKNOWN, disabled.email):
        await ask(browser, email)
    assert await waiting(session) == 3

    assert await answer_reset_requests(sessions, issuer=ISSUER) == ResetAnswers(requests=3, mailed=1)
    assert await waiting(session) == 0
    [mail] = await reset_mail_to(session, account.email)
    assert mail.subject == "Reset your gateway password"
    assert f"{ISSUER}/reset-password?token=gw_rs_" in mail.body_text
    assert await reset_mail_to(session, UNKNOWN) == []
    assert await reset_mail_to(session, disabled.email) == []
    links = await session.scalar(
        select(func.count()).select_from(AccountLink).where(AccountLink.purpose == "reset")
    )
    assert links == 1
    assert await answer_reset_requests(sessions, issuer=ISSUER) == ResetAnswers()


async def answer_at(sessions: Sessions, when: datetime) -> ResetAnswers:
    return await answer_reset_requests(sessions, issuer=ISSUER, now=when)


async def test_one_mail_per_admin_per_interval(
    browser: httpx.AsyncClient,
    account: Account,
    other_account: Account,
    session: AsyncSession,
    sessions: Sessions,
) -> None:
    assert timedelta(minutes=5) == RESET_MAIL_INTERVAL
    start = utcnow()
    token = await csrf_from(browser, "/forgot-password")
    for _ in range(5):
        await ask(browser, account.email, token)
    assert await answer_at(sessions, start) == ResetAnswers(requests=5, mailed=1)

    # Within the interval: asked again, in the same batch as another admin who has had no mail.
    for email in (account.email, account.email, other_account.email):
        await ask(browser, email, token)
    assert await answer_at(sessions, start + RESET_MAIL_INTERVAL - timedelta(seconds=1)) == ResetAnswers(
        requests=3, mailed=1
    )
    assert len(await reset_mail_to(session, account.email)) == 1
    assert len(await reset_mail_to(session, other_account.email)) == 1

    # Once the interval has passed, another link.
    await ask(browser, account.email, token)
    assert await answer_at(sessions, start + RESET_MAIL_INTERVAL) == ResetAnswers(requests=1, mailed=1)
    first, second = await reset_mail_to(session, account.email)
    assert first.body_text != second.body_text  # a new link each time
    # The first link still works while the interval lasts: the admin is never left without one.
    first_token = first.body_text.split("token=", 1)[1].split()[0]
    assert (await browser.get(f"/reset-password?token={first_token}")).status_code == 200


async def test_a_lockout_notice_counts_as_the_intervals_mail(
    browser: httpx.AsyncClient, account: Account, session: AsyncSession, sessions: Sessions
) -> None:
    for attempt in range(10):
        await sign_in(browser, account.email, f"Wrong-Password-{attempt}")
    [notice] = await reset_mail_to(session, account.email)
    assert "locked" in notice.body_text
    await ask(browser, account.email)
    assert await answer_reset_requests(sessions, issuer=ISSUER) == ResetAnswers(requests=1, mailed=0)
    assert len(await reset_mail_to(session, account.email)) == 1
    await ask(browser, account.email)
    later = utcnow() + RESET_MAIL_INTERVAL
    assert await answer_reset_requests(sessions, issuer=ISSUER, now=later) == ResetAnswers(1, 1)


async def test_the_form_is_still_throttled_per_client_address(
    browser: httpx.AsyncClient, account: Account, session: AsyncSession
) -> None:
    allowed = int(SIGN_IN_LIMIT.split("/")[0])
    token = await csrf_from(browser, "/forgot-password")
    for _ in range(allowed):
        assert (await ask(browser, account.email, token)).status_code == 303
    refused = await ask(browser, UNKNOWN, token)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert await waiting(session) == allowed  # the refused request stored nothing
    # Sign-in counts apart: the reset form's limit does not lock the admin out of signing in.
    assert (await sign_in(browser, account.email, PASSWORD)).headers["location"] == "/dashboard"


class Collecting:
    """A transport that keeps what it is given and signals the first message."""

    def __init__(self) -> None:
        self.sent: list[Mail] = []
        self.arrived = asyncio.Event()

    async def send(self, mail: Mail) -> None:
        self.sent.append(mail)
        self.arrived.set()


async def test_the_mail_worker_answers_requests_before_it_delivers(
    browser: httpx.AsyncClient, account: Account, session: AsyncSession, sessions: Sessions
) -> None:
    await ask(browser, account.email)
    await ask(browser, UNKNOWN)
    transport = Collecting()
    worker = OutboxWorker(
        sessions,
        transport,
        interval=0.01,
        producers=[functools.partial(answer_reset_requests, issuer=ISSUER)],
    )
    worker.start()
    try:
        await asyncio.wait_for(transport.arrived.wait(), timeout=10)
    finally:
        await asyncio.wait_for(worker.stop(), timeout=5)
    [mail] = transport.sent
    assert mail.to == account.email
    assert "/reset-password?token=gw_rs_" in mail.body
    assert await waiting(session) == 0
