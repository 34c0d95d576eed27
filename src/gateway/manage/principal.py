"""Who is calling `/manage/v1`: one school, through one of its API keys or one of its admins' sessions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from gateway.audit import events


@dataclass(frozen=True, slots=True)
class SchoolPrincipal:
    """The school a request acts for and who acts. Every manage query is scoped by `school_id`."""

    school_id: uuid.UUID
    admin_id: uuid.UUID | None = None  # set when an admin's session authenticated the request
    api_key_prefix: str | None = None  # set when a school API key did

    def __post_init__(self) -> None:
        if (self.admin_id is None) == (self.api_key_prefix is None):
            raise ValueError("a principal is either an admin or an API key")

    @property
    def actor(self) -> str:
        """The audit actor: `admin:<id>` or `api_key:<prefix>`."""
        if self.admin_id is not None:
            return events.admin(self.admin_id)
        assert self.api_key_prefix is not None
        return events.api_key(self.api_key_prefix)
