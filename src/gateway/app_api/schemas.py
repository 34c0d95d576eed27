"""Response bodies of the app's own endpoints (`/api/v1/app/…`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from gateway.app_api.service import GrantedSchool


class AudienceSummary(BaseModel):
    whole_school: bool = Field(description="True when every pupil of the school is covered.")
    groups: list[str] | None = Field(
        description="The ids of the year, registration or teaching groups granted; null for the whole school."
    )
    excluded_students: int = Field(description="How many pupils the school left out (never who).")


class GrantedSchoolOut(BaseModel):
    school_id: uuid.UUID
    urn: str = Field(description="The school's Unique Reference Number (DfE).", examples=["100001"])
    name: str
    grant_id: uuid.UUID = Field(description="The grant; school tokens carry it as `grant_id`.")
    scope: str = Field(
        description="The scopes granted now, space-separated (RFC 6749 §3.3).",
        examples=["groups school students.basic"],
    )
    scopes: list[str] = Field(description="The same scopes as a list.")
    audience: AudienceSummary
    granted_at: datetime = Field(description="When the school first approved this grant.")
    updated_at: datetime = Field(description="When the grant last changed (widened or narrowed).")

    @classmethod
    def of(cls, granted: GrantedSchool) -> GrantedSchoolOut:
        grant, school = granted.grant, granted.school
        return cls(
            school_id=school.id,
            urn=school.urn,
            name=school.name,
            grant_id=grant.id,
            scope=grant.scopes,
            scopes=grant.scopes.split(),
            audience=AudienceSummary.model_validate(granted.audience_summary),
            granted_at=grant.created_at,
            updated_at=grant.updated_at,
        )


class GrantedSchoolList(BaseModel):
    schools: list[GrantedSchoolOut] = Field(
        description="Schools with a live grant for this app, by grant id."
    )
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page (also in the `Link` header); null on the last page."
    )
