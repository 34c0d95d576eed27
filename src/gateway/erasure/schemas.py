"""What `/manage/v1` shows of scheduled deletions."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from gateway.erasure.models import SchoolDeletion

DeletionState = Literal["pending", "cancelled", "purged"]


class DeletionOut(BaseModel):
    id: uuid.UUID
    rule: Literal["connector_deleted", "deletion_requested"] = Field(
        description="`connector_deleted`: the MIS connector was deleted; `deletion_requested`: the school's "
        "data is to be deleted."
    )
    state: DeletionState
    requested_at: datetime
    requested_by: str = Field(description="Who: `admin:<id>`, `api_key:<prefix>` or `operator`.")
    due_on: date = Field(description="The purge happens by the end of this day (England).")
    cancelled_at: datetime | None
    purged_at: datetime | None


class DeletionList(BaseModel):
    deletions: list[DeletionOut] = Field(description="Newest first.")


def deletion_out(row: SchoolDeletion) -> DeletionOut:
    state: DeletionState = "purged" if row.purged_at else "cancelled" if row.cancelled_at else "pending"
    return DeletionOut(
        id=row.id,
        rule=row.rule,
        state=state,
        requested_at=row.requested_at,
        requested_by=row.actor,
        due_on=row.due_on,
        cancelled_at=row.cancelled_at,
        purged_at=row.purged_at,
    )
