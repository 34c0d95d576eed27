"""The one configuration object (SPEC §8): every setting is a `GATEWAY_*` environment variable."""

from __future__ import annotations

import base64
import binascii
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.email.addresses import address_problem
from gateway.email.smtp_url import parse_smtp_url
from gateway.hosts import is_loopback_host

MIB = 1024 * 1024


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class Settings(BaseSettings):
    """Validated once at start-up; a bad value stops the process with one line naming the variable."""

    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_", extra="ignore", frozen=True, hide_input_in_errors=True
    )

    environment: Environment = Field(
        default=Environment.DEVELOPMENT,
        description="`development` allows a generated master key and http on loopback; "
        "`production` requires every secret to be given.",
    )
    data_dir: Path = Field(
        default=Path("var"),
        description="Directory for the embedded SQLite database and, in development only, "
        "the generated master key file.",
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="Let webhooks go to private, link-local and other non-public addresses (loopback is "
        "allowed in development anyway). For development and tests only: refused when "
        "GATEWAY_ENVIRONMENT=production.",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL: `sqlite+aiosqlite:///path.db` (default: `<data_dir>/gateway.db`) "
        "or `postgresql+asyncpg://user:pass@host/db`.",
    )
    issuer: str = Field(
        default="http://127.0.0.1:8000",
        description="Public base URL of the gateway; the OAuth `iss` value. https, or http only on loopback.",
    )
    master_key: SecretStr | None = Field(
        default=None,
        description="Base64 of 32 random bytes; wraps every school's data key. Required outside development; "
        "in development it is generated once into `<data_dir>/master.key` (mode 0600).",
    )
    host: str = Field(default="127.0.0.1", description="Address `gateway serve` binds to.")
    port: Annotated[int, Field(ge=1, le=65535)] = Field(
        default=8000, description="Port `gateway serve` binds to."
    )
    workers: Annotated[int, Field(ge=1, le=64)] = Field(
        default=1, description="Worker processes for `gateway serve`."
    )
    shutdown_drain_seconds: Annotated[float, Field(ge=0, le=300)] = Field(
        default=5.0,
        description="On SIGTERM, how long `gateway serve` keeps serving with `/readyz` answering 503 before "
        "it stops accepting connections, in seconds (0 to 300): longer than the load balancer needs to see "
        "the failed health checks. SIGINT (Ctrl+C) does not wait.",
    )
    shutdown_grace_seconds: Annotated[int, Field(ge=1, le=600)] = Field(
        default=10,
        description="After the drain, how long requests in flight may take to finish before they are "
        "cancelled, in seconds (1 to 600). The background workers then stop (within 12 s).",
    )
    max_body_bytes: Annotated[int, Field(ge=1024, le=64 * MIB)] = Field(
        default=MIB,
        description="Largest request body accepted, in bytes (1 KiB to 64 MiB); larger bodies get 413 "
        "before they are read in full.",
    )
    connector_max_body_bytes: Annotated[int, Field(ge=1024, le=256 * MIB)] = Field(
        default=32 * MIB,
        description="Largest request body accepted on `/connector/v1` (a batch of up to 5,000 records), "
        "in bytes.",
    )
    db_pool_size: Annotated[int, Field(ge=1, le=100)] = Field(
        default=10,
        description="PostgreSQL connections per process, at most (kept open; requests beyond them wait "
        "up to the connect timeout for one).",
    )
    db_connect_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = Field(
        default=5.0, description="How long to wait for the database when connecting, in seconds."
    )
    redis_url: str | None = Field(
        default=None,
        description="Optional `redis://host:6379/0`: shares rate-limit counters between processes "
        "(otherwise each process counts on its own).",
    )
    smtp_url: SecretStr = Field(
        default=SecretStr(""),
        description="Where mail goes: `smtp://user:pass@host:587` (STARTTLS; `?starttls=false` only without "
        "a password or on loopback) or `smtps://user:pass@host:465` (TLS). Empty: each message is written "
        "to `<data_dir>/mail/` as an `.eml` file (development).",
    )
    mail_from: str = Field(
        default="gateway@localhost",
        description="Sender address of the gateway's mail (password-reset and setup links, lockout notices).",
    )
    log_level: LogLevel = Field(default=LogLevel.INFO, description="Lowest level written to the JSON log.")
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Optional bearer token for `/metrics`: when set, `/metrics` answers only a request with "
        "`Authorization: Bearer <token>` (compared in constant time; otherwise 401 with "
        "`WWW-Authenticate: Bearer`); unset, `/metrics` is open to anyone who can reach the port. 32 to 512 "
        "visible ASCII characters.",
    )
    token_rate_limit: str = Field(
        default="300/minute",
        description="Requests each client may make to `/oauth/token`, as `N/second`, `N/minute` or "
        "`N/hour`; over it, 429 with Retry-After. Counted per process unless `GATEWAY_REDIS_URL` is set.",
    )
    client_auth_failure_limit: str = Field(
        default="20/minute",
        description="Failed client authentications allowed per client id and, apart, per client address on "
        "`/oauth/token`, `/oauth/revoke` and `/oauth/introspect`; past it, every request from that client "
        "id or address is refused with 429 `too_many_requests` and Retry-After until the window passes. "
        "Counted per process unless `GATEWAY_REDIS_URL` is set.",
    )
    api_rate_limit: str = Field(
        default="600/5minutes",
        description="Requests each access token may make to `/api/v1`, as `N/minute`, `N/5minutes`, "
        "`N/hour` and so on; over it, 429 with Retry-After. Every answer carries the `RateLimit-Policy` "
        "and `RateLimit` header fields. Counted per process unless `GATEWAY_REDIS_URL` is set.",
    )
    authorize_address_rate_limit: str = Field(
        default="60/minute",
        description="Requests to `/oauth/authorize` allowed from one client address (an IPv6 address counts "
        "by its /64); over it, a 429 page with Retry-After before anything is looked up or stored. Counted "
        "per process unless `GATEWAY_REDIS_URL` is set.",
    )
    authorize_client_rate_limit: str = Field(
        default="120/minute",
        description="Authorization requests `/oauth/authorize` may store for each app (only requests that "
        "pass every check count); over it, the browser goes back to the app's redirect URI with "
        "`error=temporarily_unavailable` and nothing is stored. Counted per process unless "
        "`GATEWAY_REDIS_URL` is set.",
    )
    purge_interval_seconds: Annotated[int, Field(ge=10, le=86400)] = Field(
        default=300,
        description="How often expired authorization requests, codes, refresh tokens and access-token rows "
        "are deleted, in seconds (10 to 86,400). Every `gateway serve` process schedules the purge; one run "
        "per interval acts (on PostgreSQL elected by an advisory lock). `gateway tokens purge` runs it now.",
    )

    @field_validator("master_key")
    @classmethod
    def _master_key_is_32_bytes(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            decode_master_key(value.get_secret_value())
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url_is_usable(cls, value: SecretStr) -> SecretStr:
        if value.get_secret_value():
            parse_smtp_url(value.get_secret_value())
        return value

    @field_validator("mail_from")
    @classmethod
    def _mail_from_is_an_address(cls, value: str) -> str:
        if problem := address_problem(value):
            raise ValueError(problem)
        return value

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token_is_usable(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None  # an empty variable leaves /metrics open, as if unset
        token = value.get_secret_value()
        if not 32 <= len(token) <= 512 or not all("!" <= character <= "~" for character in token):
            raise ValueError("must be 32 to 512 visible ASCII characters (no spaces)")
        return value

    @field_validator(
        "token_rate_limit",
        "client_auth_failure_limit",
        "api_rate_limit",
        "authorize_address_rate_limit",
        "authorize_client_rate_limit",
    )
    @classmethod
    def _rate_limit_is_parseable(cls, value: str) -> str:
        from limits import parse  # here: only this validator needs it

        try:
            item = parse(value)
        except ValueError:
            raise ValueError("must be a rate such as 300/minute") from None
        if item.amount < 1:
            raise ValueError("must allow at least one request")
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("issuer")
    @classmethod
    def _issuer_is_a_base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("must be an absolute http(s) URL such as https://gateway.example.org")
        if parts.query or parts.fragment:
            raise ValueError("must not have a query or fragment")
        if parts.scheme == "http" and not is_loopback_host(parts.hostname):
            raise ValueError("must use https unless the host is loopback")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> Settings:
        if self.environment is Environment.PRODUCTION:
            if self.master_key is None:
                raise ValueError("GATEWAY_MASTER_KEY is required when GATEWAY_ENVIRONMENT=production")
            if not self.issuer.startswith("https://"):
                raise ValueError("GATEWAY_ISSUER must use https when GATEWAY_ENVIRONMENT=production")
            if self.webhook_allow_private:
                raise ValueError(
                    "GATEWAY_WEBHOOK_ALLOW_PRIVATE must not be set when GATEWAY_ENVIRONMENT=production"
                )
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'gateway.db'}"

    @property
    def webhooks_may_use_loopback(self) -> bool:
        """Webhooks to 127.0.0.1 and ::1: in development (the demo's sample app listens there). Elsewhere
        only with `webhook_allow_private`, which lets every non-public address through anyway."""
        return self.environment is Environment.DEVELOPMENT

    @property
    def webhooks_may_use_http(self) -> bool:
        """Plain http webhooks: only outside production (a local receiver while developing, tests)."""
        return self.environment is not Environment.PRODUCTION

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


def decode_master_key(encoded: str) -> bytes:
    try:
        key = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("must be base64 (of 32 random bytes)") from None
    if len(key) != 32:
        raise ValueError(f"must decode to 32 bytes, got {len(key)}")
    return key


class SettingsError(Exception):
    """A setting is missing or wrong; the message names the variable and is safe to print."""


def load_settings(**overrides: Any) -> Settings:
    """Read the environment; turn pydantic's report into one line naming the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = [str(part) for part in first["loc"]]
        variable = "GATEWAY_" + location[0].upper() if location else "GATEWAY settings"
        message = first["msg"].removeprefix("Value error, ")
        if not location and message.startswith("GATEWAY_"):
            raise SettingsError(message) from None
        raise SettingsError(f"{variable}: {message}") from None
