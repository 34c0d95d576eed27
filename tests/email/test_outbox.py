"""enqueue: a well-formed message is queued due now; anything that could break a header is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.base import utcnow
from gateway.email.addresses import address_problem
from gateway.email.models import OutboxMessage
from gateway.email.outbox import MAX_BODY_LENGTH, InvalidMail, enqueue


async def test_a_message_is_queued_due_now(session: AsyncSession) -> None:
    before = utcnow()
    message = await enqueue(session, to="head@school.example.org", subject="Reset", body="Hello\nthere")
    stored = await session.get(OutboxMessage, message.id)
    assert stored is not None
    assert (stored.to_address, stored.subject, stored.body_text) == (
        "head@school.example.org",
        "Reset",
        "Hello\nthere",
    )
    assert stored.attempts == 0
    assert stored.pending
    assert stored.sent_at is None
    assert stored.last_error is None
    assert before <= stored.next_attempt_at <= utcnow()
    assert stored.created_at == stored.next_attempt_at


@pytest.mark.parametrize(
    "address",
    [
        "",
        "not-an-address",
        "@school.example.org",
        "head@",
        "head@@school.example.org",
        "head@school..example.org",
        "head@-school.example.org",
        "head@school_example.org",
        "he ad@school.example.org",
        ".head@school.example.org",
        "head.@school.example.org",
        "héad@school.example.org",
        "head@10.0.0.1",
        "Head <head@school.example.org>",
        "a@b.org, c@d.org",
        "x" * 65 + "@school.example.org",
        "x@" + "a" * 250 + ".org",
    ],
)
async def test_a_bad_address_is_refused(session: AsyncSession, address: str) -> None:
    with pytest.raises(InvalidMail) as caught:
        await enqueue(session, to=address, subject="Reset", body="Hello")
    assert caught.value.field == "to"
    assert address not in str(caught.value) or not address
    assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


@pytest.mark.parametrize(
    "address",
    [
        "head@school.example.org",
        "o'brien+gateway@school.example.org",
        "first.last@sub-domain.school.sch.uk",
        "admin@localhost",
        "x" * 64 + "@school.example.org",
    ],
)
def test_good_addresses(address: str) -> None:
    assert address_problem(address) is None


@pytest.mark.parametrize(
    ("to", "subject"),
    [
        ("head@school.example.org\r\nBcc: victim@elsewhere.example", "Reset"),
        ("head@school.example.org\nBcc: victim@elsewhere.example", "Reset"),
        ("head@school.example.org", "Reset\r\nBcc: victim@elsewhere.example"),
        ("head@school.example.org", "Reset\nContent-Type: text/html"),
        ("head@school.example.org", "Reset\rX: y"),
        ("head@school.example.org", "Reset\x00"),
    ],
)
async def test_header_injection_is_refused(session: AsyncSession, to: str, subject: str) -> None:
    with pytest.raises(InvalidMail, match="control characters") as caught:
        await enqueue(session, to=to, subject=subject, body="Hello")
    assert caught.value.field == ("to" if to != "head@school.example.org" else "subject")
    assert "victim" not in str(caught.value)


async def test_subject_length_and_body_limits(session: AsyncSession) -> None:
    await enqueue(session, to="head@school.example.org", subject="s" * 200, body="b")
    with pytest.raises(InvalidMail, match="at most 200") as caught:
        await enqueue(session, to="head@school.example.org", subject="s" * 201, body="b")
    assert caught.value.field == "subject"
    with pytest.raises(InvalidMail, match="empty"):
        await enqueue(session, to="head@school.example.org", subject="  ", body="b")
    with pytest.raises(InvalidMail) as caught:
        await enqueue(session, to="head@school.example.org", subject="s", body="b" * (MAX_BODY_LENGTH + 1))
    assert caught.value.field == "body"
    with pytest.raises(InvalidMail) as caught:
        await enqueue(session, to="head@school.example.org", subject="s", body="nul\x00")
    assert caught.value.field == "body"
    assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


async def test_the_message_is_part_of_the_callers_transaction(session: AsyncSession) -> None:
    savepoint = await session.begin_nested()
    await enqueue(session, to="head@school.example.org", subject="Reset", body="Hello")
    await savepoint.rollback()  # the change that caused the mail did not happen: nor does the mail
    assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
