"""Request and response bodies of `/developer/v1/apps` (SPEC §9). A secret appears only in `AppCreated`
and `SecretRotated`. Types, presence and lengths are checked here; the rules in `validation`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from gateway.apps.models import (
    DESCRIPTION_MAX_LENGTH,
    MAX_REDIRECT_URIS,
    NAME_MAX_LENGTH,
    URL_MAX_LENGTH,
    App,
    AuthMethod,
)

# Never empty: an empty name or URL is refused (422), so the schema says so (`minLength: 1`).
Url = Annotated[str, StringConstraints(min_length=1, max_length=URL_MAX_LENGTH)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX_LENGTH)]
RedirectUris = Annotated[list[Url], Field(min_length=1, max_length=MAX_REDIRECT_URIS)]

_NAME = "Shown to school admins on the consent page. 1 to 80 characters, not all spaces (it is trimmed)."
_DESCRIPTION = "What the app does with the data, shown on the consent page. Up to 1,000 characters."
_REDIRECT_URIS = (
    "1 to 10 absolute URLs, matched exactly at `/oauth/authorize`: https, or http only on a loopback host "
    "(`127.0.0.1`, `[::1]`, `localhost`); the host is a DNS name in ASCII (an internationalised name in its "
    "punycode `xn--` form), a dotted-quad IPv4 address or an IPv6 address in brackets; no fragment, no `*`, "
    "no `user@`; up to 2,000 characters each."
)
_REQUIRED = (
    "Space-separated scope names the app cannot work without (all or nothing at consent). `school` is always "
    "granted, listed or not. Stored in canonical order."
)
_OPTIONAL = (
    "Space-separated scope names the school may tick or leave out. None may be in `required_scopes` or "
    "implied by them (so never `school`, and never `students.basic` next to a required `students.*`)."
)
_METHOD = (
    "`client_secret_basic` or `client_secret_post`: a confidential client with a secret; "
    "`none`: a public client, PKCE only."
)
_PRIVACY = "The app's privacy policy: https, or http only on a loopback host; hosts as for `redirect_uris`."
_SUPPORT = "Where schools get help: https, or http only on a loopback host; hosts as for `redirect_uris`."
_WEBHOOK = (
    "Optional https URL for signed event notifications (Standard Webhooks: `grant.created`, `grant.updated`, "
    "`grant.narrowed`, `grant.revoked`, `app.disconnected`, `school.data_purged`, `ping`); hosts as for "
    "`redirect_uris`; http on a loopback host only outside production; null for none."
)


class AppIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name = Field(description=_NAME, examples=["Homework Planner"])
    description: Annotated[str, StringConstraints(max_length=DESCRIPTION_MAX_LENGTH)] = Field(
        default="", description=_DESCRIPTION
    )
    redirect_uris: RedirectUris = Field(
        description=_REDIRECT_URIS, examples=[["https://planner.example.com/oauth/callback"]]
    )
    required_scopes: str = Field(description=_REQUIRED, examples=["school groups students.basic"])
    optional_scopes: str = Field(default="", description=_OPTIONAL, examples=["students.demographics"])
    token_endpoint_auth_method: AuthMethod = Field(description=_METHOD)
    privacy_policy_url: Url = Field(description=_PRIVACY, examples=["https://planner.example.com/privacy"])
    support_url: Url = Field(description=_SUPPORT, examples=["https://planner.example.com/support"])
    webhook_url: Url | None = Field(default=None, description=_WEBHOOK)


class AppPatch(BaseModel):
    """Any subset of the editable fields; the app is validated again as a whole."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = Field(default=None, description=_NAME)
    description: Annotated[str, StringConstraints(max_length=DESCRIPTION_MAX_LENGTH)] | None = Field(
        default=None, description=_DESCRIPTION
    )
    redirect_uris: RedirectUris | None = Field(default=None, description=_REDIRECT_URIS)
    required_scopes: str | None = Field(default=None, description=_REQUIRED)
    optional_scopes: str | None = Field(default=None, description=_OPTIONAL)
    token_endpoint_auth_method: AuthMethod | None = Field(
        default=None, description=_METHOD + " Cannot switch to or from `none`."
    )
    privacy_policy_url: Url | None = Field(default=None, description=_PRIVACY)
    support_url: Url | None = Field(default=None, description=_SUPPORT)
    webhook_url: Url | None = Field(default=None, description=_WEBHOOK + " Send null to remove it.")


class AppOut(BaseModel):
    client_id: str = Field(description="Public identifier of the app, `gw_app_…`.")
    name: str
    description: str
    redirect_uris: list[str]
    required_scopes: str
    optional_scopes: str
    token_endpoint_auth_method: AuthMethod
    privacy_policy_url: str
    support_url: str
    webhook_url: str | None
    previous_secret_expires_at: datetime | None = Field(
        description="After a rotation, until when the replaced secret still works; null otherwise."
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, app: App) -> AppOut:
        return cls(
            client_id=app.client_id,
            name=app.name,
            description=app.description,
            redirect_uris=app.redirect_uris,
            required_scopes=app.required_scopes,
            optional_scopes=app.optional_scopes,
            token_endpoint_auth_method=app.auth_method,
            privacy_policy_url=app.privacy_policy_url,
            support_url=app.support_url,
            webhook_url=app.webhook_url,
            previous_secret_expires_at=app.previous_secret_expires_at,
            created_at=app.created_at,
            updated_at=app.updated_at,
        )


class AppCreated(AppOut):
    client_secret: str | None = Field(
        description="`gw_cs_…`, shown this once: store it in a secret store. Null for a public client."
    )
    webhook_secret: str = Field(
        description="`whsec_…`, shown this once: verify each webhook's `webhook-signature` with it (Standard "
        "Webhooks). Rotate it at `POST /developer/v1/apps/{client_id}/webhook-secret`."
    )


class AppList(BaseModel):
    apps: list[AppOut] = Field(description="The caller's apps, oldest first.")


class SecretRotated(BaseModel):
    client_id: str
    client_secret: str = Field(description="The new secret, `gw_cs_…`, shown this once.")
    previous_secret_expires_at: datetime = Field(
        description="The replaced secret keeps working until then (24 hours), so deployments can switch over."
    )
