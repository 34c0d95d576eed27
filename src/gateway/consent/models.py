"""What consent stores (SPEC §3.2, §3.3, §3.6): pending authorization requests, grants, sensitive approvals,
signed consent receipts.

Scopes are space-separated and sorted; a grant's audience is JSON text with one spelling per audience.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, Timestamped, utcnow

REQUEST_ID_LENGTH = 43
STATE_MAX_LENGTH = 1024


class AuthorizationRequest(Base):
    """A checked `/oauth/authorize` request waiting for an admin's decision on `/consent/<id>`.

    Created before sign-in so the request survives the login steps; completed at most once.
    """

    __tablename__ = "authorization_requests"

    id: Mapped[str] = mapped_column(String(REQUEST_ID_LENGTH), primary_key=True)
    app_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    state: Mapped[str | None] = mapped_column(String(STATE_MAX_LENGTH))
    code_challenge: Mapped[str] = mapped_column(String(128))
    scopes: Mapped[str] = mapped_column(Text)
    school_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)  # the purge deletes by it
    presented_at: Mapped[datetime | None]  # first shown to an admin: the school's log records it then
    completed_at: Mapped[datetime | None]


class Grant(Timestamped, Base):
    """What a school lets one app see: scopes and audience. At most one live grant per school and app.

    `audience_json` is read and written only through `consent.audience.Audience` (`Audience.of(grant)`).
    """

    __tablename__ = "grants"
    __table_args__ = (
        Index(
            "uq_grants_live_school_app",
            "school_id",
            "app_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    app_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    scopes: Mapped[str] = mapped_column(Text)
    audience_json: Mapped[str | None] = mapped_column("audience", Text)
    approved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("admins.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(80))

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())


class SensitiveApproval(Base):
    """Which admin approved which sensitive scope of a grant, and when (SPEC §2)."""

    __tablename__ = "grant_sensitive_approvals"

    grant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("grants.id", ondelete="CASCADE"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    admin_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("admins.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsentReceipt(Base):
    """One grant decision's signed receipt (`consent.receipts`): `seq` counts the grant's receipts from 1,
    `hash` is the SHA-256 of `jws`, which the grant's next receipt names as its `prev_hash`."""

    __tablename__ = "consent_receipts"
    __table_args__ = (
        UniqueConstraint("grant_id", "seq"),
        Index("ix_consent_receipts_app_created", "app_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    grant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("grants.id", ondelete="CASCADE"))
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    app_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(20))
    jws: Mapped[str] = mapped_column(Text)
    hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
