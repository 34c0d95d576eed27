"""What each webhook says (issue 14, item 1): the event types and their payloads. Pure.

Every payload is Standard Webhooks' envelope `{"type", "timestamp", "data"}`. `data` carries ids, scope
names and field names, never pupil data: the app reads records through the data API. Schemas are the
pydantic models below; `openapi_export` puts them in the OpenAPI document's components.

- `grant.created`: a school approved the app for the first time. Start reading (`/api/v1/changes`).
- `grant.updated`: a school widened a grant (scopes, groups, pupils). The changes feed resyncs.
- `grant.narrowed`: a school narrowed a grant. Delete the removed fields; the feed's tombstones name the
  records the app may no longer see.
- `grant.revoked`: a grant ended (the school, the app's deletion, support, the gateway). Delete what the
  app holds of the school.
- `app.disconnected`: the app ended a grant itself. Delete what it holds of the school.
- `school.data_purged`: the gateway deleted the school's data (retention). Delete what it holds of it.
- `ping`: the developer asked for one, to test the endpoint.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model
from pydantic.json_schema import models_json_schema

from gateway.consent.audience import Audience
from gateway.scopes import allowed_fields, sort_scopes

__all__ = [
    "EVENT_SCHEMAS",
    "EndedBy",
    "GrantState",
    "WebhookEvent",
    "app_disconnected",
    "envelope",
    "grant_created",
    "grant_narrowed",
    "grant_revoked",
    "grant_updated",
    "ping",
    "school_data_purged",
    "webhook_schemas",
]


class WebhookEvent(StrEnum):
    GRANT_CREATED = "grant.created"
    GRANT_UPDATED = "grant.updated"
    GRANT_NARROWED = "grant.narrowed"
    GRANT_REVOKED = "grant.revoked"
    APP_DISCONNECTED = "app.disconnected"
    SCHOOL_DATA_PURGED = "school.data_purged"
    PING = "ping"


class EndedBy(StrEnum):
    SCHOOL = "school"  # an admin of the school, or the school's API key
    APP_DELETED = "app_deleted"  # the developer deleted the app
    SUPPORT = "support"  # the gateway's operator
    GATEWAY = "gateway"  # the gateway itself (retention)


# --- Schemas ---------------------------------------------------------------------------------------------


class WebhookSchool(BaseModel):
    id: uuid.UUID
    urn: str = Field(description="The school's URN (DfE unique reference number).")


class WebhookAudience(BaseModel):
    kind: Literal["school", "groups"] = Field(description="The whole school, or only the listed groups.")
    group_ids: list[str] | None = Field(description="MIS group ids; null for the whole school.")


class WebhookGrantState(BaseModel):
    scopes: list[str] = Field(description="Granted scopes, implied ones included, in catalogue order.")
    fields: dict[str, list[str]] = Field(description="Resource -> the fields the scopes unlock.")
    audience: WebhookAudience


class GrantCreatedData(WebhookGrantState):
    grant_id: uuid.UUID
    school: WebhookSchool


class GrantAdded(BaseModel):
    scopes: list[str]
    fields: dict[str, list[str]] = Field(description="Resource -> fields the app may now read too.")
    group_ids: list[str] = Field(description="Groups added to the audience.")
    whole_school: bool = Field(description="The audience became the whole school.")
    pupils_unhidden: bool = Field(description="Pupils the app could not see before may now be seen.")


class GrantUpdatedData(WebhookGrantState):
    grant_id: uuid.UUID
    school: WebhookSchool
    added: GrantAdded


class GrantRemoved(BaseModel):
    scopes: list[str]
    fields: dict[str, list[str]] = Field(
        description="Resource -> fields the app may no longer read: delete them from every record it holds."
    )
    group_ids: list[str] = Field(description="Groups removed from the audience.")
    to_groups: bool = Field(description="The audience went from the whole school to the listed groups.")
    excluded_student_ids: list[str] = Field(
        description="Pupils the school now hides from the app: delete everything about them. Pupils who "
        "left with a group are named by the changes feed's `left_audience` tombstones."
    )


class GrantNarrowedData(WebhookGrantState):
    grant_id: uuid.UUID
    school: WebhookSchool
    removed: GrantRemoved


class GrantRevokedData(BaseModel):
    grant_id: uuid.UUID
    school: WebhookSchool
    ended_by: EndedBy = Field(
        description="`school` (an admin or the school's API key), `app_deleted` (the developer deleted the "
        "app), `support` (the gateway's operator), `gateway` (retention)."
    )
    revoked_at: datetime


class AppDisconnectedData(BaseModel):
    grant_id: uuid.UUID
    school: WebhookSchool
    disconnected_at: datetime


class SchoolDataPurgedData(BaseModel):
    school: WebhookSchool
    rule: str = Field(
        description="Why: `connector_deleted`, `deletion_requested`, `inactive`, `former_pupil`."
    )
    purged_at: datetime
    student_ids: list[str] = Field(
        description="For `former_pupil`: the pupils whose records went; empty for a whole-school purge."
    )


class PingData(BaseModel):
    client_id: str
    message: str


EVENT_SCHEMAS: Mapping[WebhookEvent, type[BaseModel]] = {
    WebhookEvent.GRANT_CREATED: GrantCreatedData,
    WebhookEvent.GRANT_UPDATED: GrantUpdatedData,
    WebhookEvent.GRANT_NARROWED: GrantNarrowedData,
    WebhookEvent.GRANT_REVOKED: GrantRevokedData,
    WebhookEvent.APP_DISCONNECTED: AppDisconnectedData,
    WebhookEvent.SCHOOL_DATA_PURGED: SchoolDataPurgedData,
    WebhookEvent.PING: PingData,
}


# --- Builders --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GrantState:
    """A grant's scopes and audience at one moment (before or after a change)."""

    scopes: frozenset[str]
    audience: Audience

    def fields(self) -> dict[str, frozenset[str]]:
        return dict(allowed_fields(self.scopes))

    def view(self) -> dict[str, Any]:
        return {
            "scopes": list(sort_scopes(self.scopes)),
            "fields": _listed(self.fields()),
            "audience": {
                "kind": "school" if self.audience.whole_school else "groups",
                "group_ids": None if self.audience.groups is None else sorted(self.audience.groups),
            },
        }


def _listed(fields: Mapping[str, frozenset[str]]) -> dict[str, list[str]]:
    return {resource: sorted(names) for resource, names in fields.items() if names}


def _school(school_id: uuid.UUID, urn: str) -> dict[str, Any]:
    return {"id": str(school_id), "urn": urn}


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def grant_created(grant_id: uuid.UUID, school_id: uuid.UUID, urn: str, now: GrantState) -> dict[str, Any]:
    return {"grant_id": str(grant_id), "school": _school(school_id, urn), **now.view()}


def _gained(more: GrantState, less: GrantState) -> dict[str, Any]:
    """What `more` lets the app see that `less` does not: scopes, fields by resource, named groups."""
    fewer = less.fields()
    return {
        "scopes": list(sort_scopes(more.scopes - less.scopes)),
        "fields": _listed({r: names - fewer.get(r, frozenset()) for r, names in more.fields().items()}),
        "group_ids": []
        if more.audience.groups is None
        else sorted(more.audience.groups - (less.audience.groups or frozenset())),
    }


def grant_updated(
    grant_id: uuid.UUID, school_id: uuid.UUID, urn: str, before: GrantState, now: GrantState
) -> dict[str, Any]:
    return {
        "grant_id": str(grant_id),
        "school": _school(school_id, urn),
        **now.view(),
        "added": {
            **_gained(now, before),
            "whole_school": now.audience.whole_school and not before.audience.whole_school,
            "pupils_unhidden": bool(before.audience.exclude - now.audience.exclude),
        },
    }


def grant_narrowed(
    grant_id: uuid.UUID, school_id: uuid.UUID, urn: str, before: GrantState, now: GrantState
) -> dict[str, Any]:
    return {
        "grant_id": str(grant_id),
        "school": _school(school_id, urn),
        **now.view(),
        "removed": {
            **_gained(before, now),
            "to_groups": before.audience.whole_school and not now.audience.whole_school,
            "excluded_student_ids": sorted(now.audience.exclude - before.audience.exclude),
        },
    }


def grant_revoked(
    grant_id: uuid.UUID, school_id: uuid.UUID, urn: str, ended_by: EndedBy, at: datetime
) -> dict[str, Any]:
    return {
        "grant_id": str(grant_id),
        "school": _school(school_id, urn),
        "ended_by": ended_by.value,
        "revoked_at": _time(at),
    }


def app_disconnected(grant_id: uuid.UUID, school_id: uuid.UUID, urn: str, at: datetime) -> dict[str, Any]:
    return {"grant_id": str(grant_id), "school": _school(school_id, urn), "disconnected_at": _time(at)}


def school_data_purged(
    school_id: uuid.UUID, urn: str, rule: str, at: datetime, student_ids: list[str]
) -> dict[str, Any]:
    return {
        "school": _school(school_id, urn),
        "rule": rule,
        "purged_at": _time(at),
        "student_ids": sorted(student_ids),
    }


def ping(client_id: str) -> dict[str, Any]:
    return {"client_id": client_id, "message": "A test message sent at the developer's request."}


def envelope(event: WebhookEvent, data: Mapping[str, Any], at: datetime) -> dict[str, Any]:
    """The body sent: Standard Webhooks' `{"type", "timestamp", "data"}`."""
    return {"type": event.value, "timestamp": _time(at), "data": dict(data)}


def ended_by(actor: str, reason: str | None) -> EndedBy:
    """Who ended a grant, from the authorisation log's actor (and reason)."""
    if reason == "app_deleted" or actor.startswith("developer:"):
        return EndedBy.APP_DELETED
    if actor.startswith(("admin:", "api_key:")):
        return EndedBy.SCHOOL
    if actor == "operator":
        return EndedBy.SUPPORT
    return EndedBy.GATEWAY


def webhook_schemas() -> dict[str, Any]:
    """JSON Schemas of every webhook body (`Webhook…`, each `{"type", "timestamp", "data"}`), for the
    OpenAPI document's components."""
    envelopes = [
        create_model(
            "Webhook" + "".join(part.capitalize() for part in event.value.replace(".", "_").split("_")),
            __doc__=f"The body of a `{event.value}` webhook.",
            type=(Literal[event.value], Field(description="The event.")),  # type: ignore[arg-type]
            timestamp=(datetime, Field(description="When the event happened (UTC).")),
            data=(schema, ...),
        )
        for event, schema in EVENT_SCHEMAS.items()
    ]
    _, top = models_json_schema(
        [(model, "serialization") for model in envelopes], ref_template="#/components/schemas/{model}"
    )
    schemas: dict[str, Any] = top["$defs"]
    return schemas
