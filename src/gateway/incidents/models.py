"""What an incident keeps: the incident the operator opened, and each school it touched.

| table | one row per |
|---|---|
| `incidents` | an incident: summary, when detected, the window looked at, the filters, who opened it, |
| | open or closed and the outcome |
| `incident_schools` | a school it touched: the apps that read its data in the window, how many of its |
| | pupils were read, what was found (counts by source), when its admins were told and how many |

The touched schools are computed once, when the incident is opened (`gateway.incidents.reach`), and kept:
`gateway incident status` shows the same set every time, however the logs move on. No email address is
kept: who was told is a count of admins and whether the data protection contact was among them.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, utcnow

OPEN = "open"
CLOSED = "closed"


class Incident(Base):
    """A suspected or known breach, opened by a named operator; closed with its outcome."""

    __tablename__ = "incidents"
    __table_args__ = (CheckConstraint("state IN ('open', 'closed')", name="state"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    summary: Mapped[str] = mapped_column(Text)
    detected_at: Mapped[datetime]  # the 72 hours run from here
    window_from: Mapped[datetime]
    window_to: Mapped[datetime]
    school_filter: Mapped[str | None] = mapped_column(Text)  # space-separated school ids, or every school
    app_filter: Mapped[str | None] = mapped_column(Text)  # space-separated client ids, or every source
    opened_by: Mapped[str] = mapped_column(String(80))  # the operator's name (`--by` or $USER)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(8), default=OPEN)
    closed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)


class IncidentSchool(Base):
    """A school the incident touched, and its notice (`notified_at` is set once, by a guarded update)."""

    __tablename__ = "incident_schools"
    __table_args__ = (Index("ix_incident_schools_school", "school_id", "notified_at"),)

    incident_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    school_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True
    )
    apps: Mapped[str] = mapped_column(Text, default="")  # space-separated client ids that read in the window
    pupils: Mapped[int] = mapped_column(default=0)  # distinct pupils whose records were read in the window
    data_accesses: Mapped[int] = mapped_column(default=0)
    support_reads: Mapped[int] = mapped_column(default=0)
    sync_runs: Mapped[int] = mapped_column(default=0)
    key_events: Mapped[int] = mapped_column(default=0)
    notified_at: Mapped[datetime | None]
    notified_admins: Mapped[int] = mapped_column(default=0)
    notified_dpo: Mapped[bool] = mapped_column(default=False)
