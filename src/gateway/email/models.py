"""The `email_outbox` table: mail waiting to go, going, gone or given up.

| column | holds |
|---|---|
| `to_address`, `subject`, `body_text` | the message; the body is blanked once it is sent or given up (it |
| | usually carries a one-time link, of no use to anyone afterwards but a thief of the database) |
| `attempts` | delivery attempts started (counted when a sender claims the message) |
| `next_attempt_at` | when it is next due; while a sender holds it, the end of that sender's lease |
| `sent_at` / `failed_at` | set once, when the message is handed to the mail server / given up on |
| `last_error` | the last failure as an error class and SMTP code: never the server's text, which may |
| | quote the address |
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, utcnow


class OutboxMessage(Base):
    __tablename__ = "email_outbox"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(index=True, default=utcnow)
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(200))

    @property
    def pending(self) -> bool:
        return self.sent_at is None and self.failed_at is None
