"""School API keys: a school's scripts call `/manage/v1` with them (SPEC §1, §7). HMAC-SHA-256 at rest."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, utcnow

NAME_MAX_LENGTH = 80


class SchoolApiKey(Base):
    """`gw_sk_<prefix>_<secret>`: the prefix finds the row, the secret is kept only as its keyed hash."""

    __tablename__ = "school_api_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))
    # Null when another API key created it, or once that admin is deleted.
    created_by_admin_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("admins.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
