"""Support requests: who (a named operator), why, what (resources) and for how long; the school's answer.

A request is pending until an admin answers. Approved, it is live from `decided_at` until `expires_at`
(to the second; an admin may bring `expires_at` forward, or withdraw it, which sets both `withdrawn_at`
and `expires_at` to the moment). `purpose` says what the approval allows: `read` (the approved resources
through `gateway support read`), `add_admin` (one `gateway admin add` on a school with admins), `export`
(one operator export of the whole school). A break-glass admin addition is recorded as a request of
purpose `add_admin` with `break_glass` set, decided by nobody.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base


class SupportRequest(Base):
    __tablename__ = "support_requests"
    __table_args__ = (Index("ix_support_requests_school", "school_id", "requested_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    operator: Mapped[str] = mapped_column(String(64))  # the named member of staff (a handle, not an email)
    purpose: Mapped[str] = mapped_column(String(16))  # `read`, `add_admin` or `export`
    reason: Mapped[str] = mapped_column(Text)
    resources: Mapped[str] = mapped_column(Text)  # space-separated resource names; empty for add_admin
    hours: Mapped[int]  # asked for, 1 to 168
    requested_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(80))  # `admin:<id>` or `api_key:<prefix>`
    approved: Mapped[bool | None]
    expires_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]  # an `add_admin` or `export` approval is used once
    break_glass: Mapped[bool] = mapped_column(default=False)

    @property
    def resource_list(self) -> list[str]:
        return self.resources.split()

    def live_at(self, moment: datetime) -> bool:
        """Approved, not withdrawn, not used (for a one-off purpose) and `moment` before its expiry."""
        return (
            bool(self.approved)
            and self.withdrawn_at is None
            and self.expires_at is not None
            and moment < self.expires_at
            and (self.purpose == "read" or self.used_at is None)
        )

    def state_at(self, moment: datetime) -> str:
        """`pending`, `declined`, `live`, `withdrawn`, `used`, `expired` (or `break_glass`)."""
        if self.break_glass:
            return "break_glass"
        if self.approved is None:
            return "pending"
        if not self.approved:
            return "declined"
        if self.withdrawn_at is not None:
            return "withdrawn"
        if self.purpose != "read" and self.used_at is not None:
            return "used"
        return "live" if self.live_at(moment) else "expired"
