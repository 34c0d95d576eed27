"""App developers (SPEC §1) and their API keys for `/developer/v1`. Keys are HMAC-SHA-256 at rest."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, utcnow

NAME_MAX_LENGTH = 120
EMAIL_MAX_LENGTH = 254


class Developer(Base):
    """A developer account, created by the operator. The email is stored lower-cased and is unique."""

    __tablename__ = "developers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))
    email: Mapped[str] = mapped_column(String(EMAIL_MAX_LENGTH), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeveloperKey(Base):
    """`gw_dk_<prefix>_<secret>`: the prefix finds the row, the secret is kept only as its keyed hash."""

    __tablename__ = "developer_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    developer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("developers.id", ondelete="CASCADE"), index=True
    )
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
