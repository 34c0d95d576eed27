"""What the authorisation server stores: pending requests, grants, codes, refresh and access tokens.

Secrets (codes, refresh tokens) are kept only as SHA-256 digests: they are 256-bit random values, so a
plain digest is enough and a leaked table holds nothing usable. Scopes are space-separated, sorted.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, text
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
    expires_at: Mapped[datetime]
    presented_at: Mapped[datetime | None]  # first shown to an admin: the school's log records it then
    completed_at: Mapped[datetime | None]


class Grant(Timestamped, Base):
    """What a school lets one app see: scopes and audience. At most one live grant per school and app.

    `audience` is JSON: null for the whole school, else {"groups": [ids], "exclude": [student ids]}
    (the exclusions apply to the whole school too: {"groups": null, "exclude": [...]}).
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

    @property
    def audience(self) -> dict[str, Any] | None:
        value: dict[str, Any] | None = json.loads(self.audience_json) if self.audience_json else None
        return value

    @audience.setter
    def audience(self, value: dict[str, Any] | None) -> None:
        self.audience_json = audience_json(value)


def audience_json(value: dict[str, Any] | None) -> str | None:
    """The stored text of an audience: one spelling per audience, so guarded updates can compare it."""
    return json.dumps(value, sort_keys=True) if value is not None else None


class SensitiveApproval(Base):
    """Which admin approved which sensitive scope of a grant, and when (SPEC §2)."""

    __tablename__ = "grant_sensitive_approvals"

    grant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("grants.id", ondelete="CASCADE"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    admin_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("admins.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuthorizationCode(Base):
    """A code (SPEC §3.4): 60 s, single use, bound to the app, redirect URI and PKCE challenge.

    Its id names the token family: every refresh and access token issued from it carries `family_id`,
    so a second use of the code revokes them all.
    """

    __tablename__ = "authorization_codes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    app_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    grant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("grants.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    code_challenge: Mapped[str] = mapped_column(String(128))
    scopes: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class RefreshToken(Base):
    """An opaque refresh token, by SHA-256. Rotated on every use: `used_at` is set once, by a guarded UPDATE.

    A retry within the idempotency window gets the same successor, derived from the presented token
    (`issuance.successor_of`), so no token is ever stored in the clear.
    """

    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    app_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    grant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("grants.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    scopes: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class IssuedAccessToken(Base):
    """Access tokens the server must be able to deny before they expire.

    Every school token (authorization code or refresh) is recorded at issue, with its family; an
    app-level (client_credentials) token only when it is revoked. A token is refused when its row has
    `revoked_at` set; a school token is also refused when its grant is no longer live.
    """

    __tablename__ = "access_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    app_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    grant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("grants.id", ondelete="CASCADE"), index=True
    )
    family_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
