"""What `/manage/v1/support-requests` shows and takes."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from gateway.support.models import SupportRequest
from gateway.support.requests import MAX_HOURS


class SupportRequestOut(BaseModel):
    id: uuid.UUID
    operator: str = Field(description="The member of the operator's staff who asked (a handle).")
    purpose: str = Field(description="`read` (the resources listed), `add_admin` or `export`.")
    reason: str
    resources: list[str]
    hours: int = Field(description="How long was asked for, from approval.")
    state: str = Field(
        description="`pending`, `declined`, `live`, `withdrawn`, `expired`, `used` or `break_glass`."
    )
    requested_at: datetime
    decided_at: datetime | None
    decided_by: str | None = Field(description="`admin:<id>` or `api_key:<prefix>`.")
    approved_at: datetime | None
    expires_at: datetime | None = Field(description="The approval ends at this second.")
    withdrawn_at: datetime | None


class SupportRequestList(BaseModel):
    support_requests: list[SupportRequestOut] = Field(description="Newest first.")


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hours: int | None = Field(
        default=None, ge=1, le=MAX_HOURS, description="Allow fewer hours than asked for (default: all)."
    )


class ShortenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    until: AwareDatetime = Field(
        description="The new end, with its UTC offset: before the current one (now or earlier ends it now)."
    )


def request_out(row: SupportRequest, now: datetime) -> SupportRequestOut:
    return SupportRequestOut(
        id=row.id,
        operator=row.operator,
        purpose=row.purpose,
        reason=row.reason,
        resources=row.resource_list,
        hours=row.hours,
        state=row.state_at(now),
        requested_at=row.requested_at,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        approved_at=row.decided_at if row.approved else None,
        expires_at=row.expires_at,
        withdrawn_at=row.withdrawn_at,
    )
