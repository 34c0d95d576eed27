"""The body of `GET /manage/v1/students/{id}/disclosures`: ids, scope and field names, times. No record
contents: the school asks about its own pupil and already holds their record."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from gateway.manage.grants_schemas import SensitiveApprovalOut
from gateway.pupils.disclosures import CurrentAccess, Disclosure


class AppAccessOut(BaseModel):
    grant_id: uuid.UUID
    app_id: uuid.UUID
    client_id: str
    app_name: str
    since: datetime = Field(description="When the school first allowed the app (the grant's creation).")
    last_changed: datetime = Field(description="The grant's last approval, widening or narrowing.")
    approved_by: uuid.UUID | None = Field(
        description="The admin who approved the grant; null if that admin was deleted."
    )
    scopes: list[str] = Field(
        description="The grant's scopes (implied ones included) that unlock a field about this pupil."
    )
    fields: dict[str, list[str]] = Field(
        description="Resource -> the fields about this pupil the app may read: the pupil record, per-pupil "
        "records (attendance, results, exclusions, contact links) and `groups.student_ids` (membership)."
    )
    sensitive_approvals: list[SensitiveApprovalOut] = Field(
        description="Who approved each of those scopes that is sensitive, and when."
    )

    @classmethod
    def of(cls, access: CurrentAccess) -> AppAccessOut:
        return cls(
            grant_id=access.grant_id,
            app_id=access.app_id,
            client_id=access.client_id,
            app_name=access.app_name,
            since=access.since,
            last_changed=access.last_changed,
            approved_by=access.approved_by,
            scopes=list(access.scopes),
            fields={resource: sorted(names) for resource, names in access.fields.items()},
            sensitive_approvals=[
                SensitiveApprovalOut(scope=s.scope, admin_id=s.admin_id, approved_at=s.approved_at)
                for s in access.sensitive
            ],
        )


class DisclosureOut(BaseModel):
    id: int = Field(description="The data-access log entry (`/manage/v1/access-log`): newest first.")
    occurred_at: datetime
    app_id: uuid.UUID
    client_id: str
    grant_id: uuid.UUID
    resource: str = Field(description="The data API resource whose records carried the pupil.")
    fields: list[str] = Field(description="The field names that response sent of the resource, sorted.")
    record_count: int = Field(
        description="Records of the resource in that response, this pupil's among them."
    )
    request_id: str | None = Field(description="The response's `X-Request-ID`, to match the app's own logs.")

    @classmethod
    def of(cls, found: Disclosure) -> DisclosureOut:
        return cls(
            id=found.id,
            occurred_at=found.occurred_at,
            app_id=found.app_id,
            client_id=found.client_id,
            grant_id=found.grant_id,
            resource=found.resource,
            fields=sorted(found.fields),
            record_count=found.record_count,
            request_id=found.request_id,
        )


class PupilDisclosures(BaseModel):
    student_id: str
    current_access: list[AppAccessOut] = Field(
        description="Every app that can see this pupil now (the grant's audience holds them today), "
        "oldest grant first. The same on every page."
    )
    disclosures: list[DisclosureOut] = Field(
        description="Data API responses that carried this pupil, newest first (responses served before "
        "the gateway recorded pupils, in migration 0016, are not listed)."
    )
    next_cursor: str | None = Field(
        description="Pass as `cursor` for older responses; null on the last page."
    )
