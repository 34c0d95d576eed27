"""An app (OAuth client) registered by a developer (SPEC §3.1). Client secrets are HMAC-SHA-256 at rest."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, Timestamped

NAME_MAX_LENGTH = 80
DESCRIPTION_MAX_LENGTH = 1000
URL_MAX_LENGTH = 2000
MAX_REDIRECT_URIS = 10


class AuthMethod(StrEnum):
    """How the app authenticates at the token endpoint (RFC 7591 §2 `token_endpoint_auth_method`)."""

    CLIENT_SECRET_BASIC = "client_secret_basic"  # noqa: S105 (a method name, not a secret)
    CLIENT_SECRET_POST = "client_secret_post"  # noqa: S105
    NONE = "none"  # a public client: no secret, PKCE only

    @property
    def confidential(self) -> bool:
        return self is not AuthMethod.NONE


class App(Timestamped, Base):
    """`client_id` is public; the secret is kept only as its keyed hash (and the replaced one, a while)."""

    __tablename__ = "apps"
    __table_args__ = (
        CheckConstraint(
            "token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post', 'none')",
            name="token_endpoint_auth_method",
        ),
        CheckConstraint(
            "(token_endpoint_auth_method = 'none') = (client_secret_hash IS NULL)",
            name="secret_iff_confidential",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    developer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("developers.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))
    description: Mapped[str] = mapped_column(String(DESCRIPTION_MAX_LENGTH))
    privacy_policy_url: Mapped[str] = mapped_column(String(URL_MAX_LENGTH))
    support_url: Mapped[str] = mapped_column(String(URL_MAX_LENGTH))
    redirect_uris_json: Mapped[str] = mapped_column("redirect_uris", Text)
    required_scopes: Mapped[str] = mapped_column(Text)
    optional_scopes: Mapped[str] = mapped_column(Text)
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(32))
    webhook_url: Mapped[str | None] = mapped_column(String(URL_MAX_LENGTH))
    client_secret_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    previous_secret_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    previous_secret_expires_at: Mapped[datetime | None]

    @property
    def redirect_uris(self) -> list[str]:
        """The exact strings registered, in the order given; the authorize endpoint matches them exactly."""
        uris: list[str] = json.loads(self.redirect_uris_json)
        return uris

    @redirect_uris.setter
    def redirect_uris(self, uris: list[str]) -> None:
        self.redirect_uris_json = json.dumps(list(uris))

    @property
    def auth_method(self) -> AuthMethod:
        return AuthMethod(self.token_endpoint_auth_method)
