"""A school's own settings, kept and changed by its admins (issue 16, item 3).

| setting | what it does |
|---|---|
| the data protection contact (name, email) | told of an incident that touched the school, with its |
| | admins (`gateway.incidents.notices`) |
| `email_on_more_access` (default on) | the school's other admins are emailed when an app that holds a |
| | live grant asks for more (`gateway.consent.more_access` says when) |

A school without a row has the defaults: no contact, emails on. A change is a `school.settings_changed`
event naming what changed, never the contact itself: `{"dpo_contact": "changed"}`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ForeignKey, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from gateway.accounts.service import check_email
from gateway.audit.events import EventType
from gateway.audit.service import record_event
from gateway.db.base import Base, utcnow
from gateway.errors import InvalidInput

MAX_NAME_LENGTH: Final = 200
MAX_EMAIL_LENGTH: Final = 254


class SchoolSettings(Base):
    __tablename__ = "school_settings"

    school_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True
    )
    dpo_name: Mapped[str | None] = mapped_column(String(MAX_NAME_LENGTH))
    dpo_email: Mapped[str | None] = mapped_column(String(MAX_EMAIL_LENGTH))
    email_on_more_access: Mapped[bool] = mapped_column(default=True, server_default="1")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True, slots=True)
class Settings:
    """What an admin sees and edits; the defaults for a school that never changed them."""

    dpo_name: str | None = None
    dpo_email: str | None = None
    email_on_more_access: bool = True


def check_contact(name: str, email: str) -> tuple[str | None, str | None]:
    """The contact as stored (both given, or neither); InvalidInput naming every bad field."""
    name, email = name.strip(), email.strip()
    errors: list[dict[str, str]] = []
    if len(name) > MAX_NAME_LENGTH or any(ord(char) < 32 or ord(char) == 127 for char in name):
        errors.append(
            {"detail": f"at most {MAX_NAME_LENGTH} characters, on one line", "pointer": "#/dpo_name"}
        )
    if not email and name:
        errors.append({"detail": "give the contact's email address too", "pointer": "#/dpo_email"})
    if email:
        try:
            email = check_email(email)
        except InvalidInput:
            errors.append({"detail": "not an email address", "pointer": "#/dpo_email"})
    if email and not name:
        errors.append({"detail": "give the contact's name too", "pointer": "#/dpo_name"})
    if errors:
        raise InvalidInput("The data protection contact was not changed.", errors=errors)
    return (name or None, email or None)


async def settings_of(session: AsyncSession, school_id: uuid.UUID) -> Settings:
    row = await session.get(SchoolSettings, school_id)
    if row is None:
        return Settings()
    return Settings(row.dpo_name, row.dpo_email, row.email_on_more_access)


async def change_settings(
    session: AsyncSession,
    school_id: uuid.UUID,
    *,
    dpo_name: str,
    dpo_email: str,
    email_on_more_access: bool,
    actor: str,
) -> dict[str, Any]:
    """Store the settings; `school.settings_changed` with what changed (nothing recorded if nothing did).
    What changed is returned, as recorded."""
    name, email = check_contact(dpo_name, dpo_email)
    row = await session.get(SchoolSettings, school_id, with_for_update=True)
    if row is None:
        row = SchoolSettings(school_id=school_id, email_on_more_access=True)
        session.add(row)
    changed: dict[str, Any] = {}
    if (row.dpo_name, row.dpo_email) != (name, email):
        changed["dpo_contact"] = "changed" if email else "removed"
        row.dpo_name, row.dpo_email = name, email
    if row.email_on_more_access != email_on_more_access:
        changed["email_on_more_access"] = email_on_more_access
        row.email_on_more_access = email_on_more_access
    if changed:
        row.updated_at = utcnow()
        await session.flush()
        await record_event(
            session,
            school_id=school_id,
            event_type=EventType.SCHOOL_SETTINGS_CHANGED,
            actor=actor,
            details=changed,
        )
    return changed
