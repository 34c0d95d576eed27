"""Request and response bodies of `/manage/v1/grants` (SPEC §3.6). The school sees its own data in full:
group ids and names, excluded pupils' ids, the approving admin's id. Never a token."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from gateway.consent.audience import Audience
from gateway.consent.grants import GrantSummary, GrantView
from gateway.consent.rules import MAX_AUDIENCE_IDS
from gateway.scopes import SCOPE_NAMES

# An MIS record id, as the connector accepts them (`mis.validation`).
RecordId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
ScopeName = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[a-z][a-z._]*$")]


class AppOut(BaseModel):
    client_id: str
    name: str
    developer_name: str


class AudienceGroupOut(BaseModel):
    id: str
    name: str | None = Field(description="The group's name in the MIS; null if the group no longer exists.")


class AudienceOut(BaseModel):
    kind: Literal["school", "groups"] = Field(
        description="`school`: every pupil on roll; `groups`: only pupils in the listed groups."
    )
    groups: list[AudienceGroupOut] | None = Field(description="Null for the whole school.")
    excluded_count: int = Field(description="Pupils the app must never see, whatever their group.")
    excluded_student_ids: list[str]


class ScopeOut(BaseModel):
    name: str
    title: str = Field(description="What the scope shares, in plain English (the consent page's words).")
    sensitive: bool
    required: bool = Field(
        description="Required by the app's registration (or always granted): removed only by revoking."
    )


class SensitiveApprovalOut(BaseModel):
    scope: str
    admin_id: uuid.UUID | None = Field(description="The approving admin; null if that admin was deleted.")
    approved_at: datetime


class TokenCounts(BaseModel):
    refresh_token_families: int = Field(
        description="Live refresh-token families: each is one running connection of the app."
    )
    access_tokens: int = Field(
        description="Unexpired access tokens (15 minutes each) the grant still honours."
    )


class GrantSummaryOut(BaseModel):
    id: uuid.UUID
    app: AppOut
    scopes: list[str] = Field(description="Granted scopes, in catalogue order.")
    audience_kind: Literal["school", "groups"]
    created_at: datetime
    updated_at: datetime
    revoked_at: datetime | None
    last_access_at: datetime | None = Field(description="The app's last data API response; null if never.")


class GrantOut(BaseModel):
    id: uuid.UUID
    app: AppOut
    scopes: list[ScopeOut] = Field(description="Granted scopes, implied ones included, in catalogue order.")
    sensitive_approvals: list[SensitiveApprovalOut] = Field(
        description="Who approved each granted sensitive scope, and when."
    )
    audience: AudienceOut
    created_at: datetime
    updated_at: datetime = Field(description="Last approval or narrowing (or the revocation).")
    revoked_at: datetime | None
    revoked_by: str | None = Field(description="`admin:<id>`, `api_key:<prefix>` or `app:<client_id>`.")
    tokens: TokenCounts
    last_access_at: datetime | None = Field(description="The app's last data API response; null if never.")


class GrantList(BaseModel):
    grants: list[GrantSummaryOut] = Field(description="Newest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


class AudienceIn(BaseModel):
    """The whole new audience. It must be inside the current one: that is what narrowing means."""

    model_config = ConfigDict(extra="forbid")

    groups: list[RecordId] | None = Field(
        max_length=MAX_AUDIENCE_IDS,
        description="Group ids (year, registration or teaching), or null for the whole school.",
    )
    exclude: list[RecordId] = Field(
        max_length=MAX_AUDIENCE_IDS,
        description="Pupil ids the app must never see: every pupil excluded now, and any more.",
    )


class NarrowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    remove_scopes: list[ScopeName] = Field(
        default_factory=list,
        max_length=len(SCOPE_NAMES),
        description="Optional scopes to stop sharing. A required scope is refused: revoke the grant instead.",
        examples=[["students.demographics"]],
    )
    audience: AudienceIn | None = Field(
        default=None, description="A smaller audience; omit to keep the current one."
    )

    @field_validator("remove_scopes")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    def audience_value(self) -> Audience | None:
        if self.audience is None:
            return None
        groups = self.audience.groups
        return Audience.chosen(groups, self.audience.exclude)


def _app(summary: GrantSummary) -> AppOut:
    return AppOut(
        client_id=summary.app.client_id, name=summary.app.name, developer_name=summary.developer_name
    )


def summary_out(summary: GrantSummary) -> GrantSummaryOut:
    grant = summary.grant
    return GrantSummaryOut(
        id=grant.id,
        app=_app(summary),
        scopes=[scope.name for scope in summary.scopes],
        audience_kind="school" if summary.audience.groups is None else "groups",
        created_at=grant.created_at,
        updated_at=grant.updated_at,
        revoked_at=grant.revoked_at,
        last_access_at=summary.last_access_at,
    )


def grant_out(view: GrantView, group_names: dict[str, str]) -> GrantOut:
    grant, audience = view.grant, view.audience
    return GrantOut(
        id=grant.id,
        app=_app(view),
        scopes=[
            ScopeOut(name=g.scope.name, title=g.scope.title, sensitive=g.scope.sensitive, required=g.required)
            for g in view.granted
        ],
        sensitive_approvals=[
            SensitiveApprovalOut(
                scope=g.scope.name, admin_id=g.approval.admin_id, approved_at=g.approval.approved_at
            )
            for g in view.granted
            if g.approval is not None
        ],
        audience=AudienceOut(
            kind="school" if audience.groups is None else "groups",
            groups=None
            if audience.groups is None
            else [
                AudienceGroupOut(id=group, name=group_names.get(group)) for group in audience.sorted_groups
            ],
            excluded_count=len(audience.exclude),
            excluded_student_ids=list(audience.sorted_exclude),
        ),
        created_at=grant.created_at,
        updated_at=grant.updated_at,
        revoked_at=grant.revoked_at,
        revoked_by=grant.revoked_by,
        tokens=TokenCounts(refresh_token_families=view.refresh_families, access_tokens=view.access_tokens),
        last_access_at=view.last_access_at,
    )
