"""What the token lifecycle stores (SPEC §3.4): authorization codes, refresh tokens, issued access tokens.

Secrets (codes, refresh tokens) are kept only as SHA-256 digests: they are 256-bit random values, so a
plain digest is enough and a leaked table holds nothing usable. Scopes are space-separated, sorted.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, utcnow


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
    expires_at: Mapped[datetime] = mapped_column(index=True)  # the purge deletes by it
    used_at: Mapped[datetime | None]


class RefreshToken(Base):
    """An opaque refresh token, by SHA-256. Rotated on every use: `used_at` is set once, by a guarded UPDATE.

    A retry within the idempotency window gets the same successor, derived from the presented token
    (`tokens.refresh.successor_of`), so no token is ever stored in the clear.
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
    expires_at: Mapped[datetime] = mapped_column(index=True)  # the purge deletes by it
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
    expires_at: Mapped[datetime] = mapped_column(index=True)  # the purge deletes by it
    revoked_at: Mapped[datetime | None]
