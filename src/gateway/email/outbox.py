"""Queue a message in the caller's transaction: it goes out only if that transaction commits."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.base import utcnow
from gateway.email.addresses import address_problem
from gateway.email.models import OutboxMessage
from gateway.observability.logging import log_fields

MAX_SUBJECT_LENGTH = 200
MAX_BODY_LENGTH = 100_000

logger = logging.getLogger(__name__)


class InvalidMail(ValueError):
    """A message the outbox refuses; `field` is `to`, `subject` or `body`. Never repeats the value."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def check_mail(*, to: str, subject: str, body: str) -> None:
    """Raise InvalidMail unless the message is safe to put into headers and the table."""
    if problem := address_problem(to):
        raise InvalidMail("to", problem)
    if not subject.strip():
        raise InvalidMail("subject", "must not be empty")
    if any(ord(char) < 32 or ord(char) == 127 for char in subject):
        raise InvalidMail("subject", "must not contain control characters (CR, LF …)")  # header injection
    if len(subject) > MAX_SUBJECT_LENGTH:
        raise InvalidMail("subject", f"must be at most {MAX_SUBJECT_LENGTH} characters")
    if "\x00" in body:
        raise InvalidMail("body", "must not contain NUL characters")
    if len(body) > MAX_BODY_LENGTH:
        raise InvalidMail("body", f"must be at most {MAX_BODY_LENGTH} characters")


async def enqueue(session: AsyncSession, *, to: str, subject: str, body: str) -> OutboxMessage:
    """Add a message, due now, to the outbox. Flushes; the caller's transaction commits."""
    check_mail(to=to, subject=subject, body=body)
    now = utcnow()
    message = OutboxMessage(
        to_address=to, subject=subject, body_text=body, created_at=now, attempts=0, next_attempt_at=now
    )
    session.add(message)
    await session.flush()
    logger.info("mail queued", extra=log_fields(mail_id=str(message.id)))
    return message
