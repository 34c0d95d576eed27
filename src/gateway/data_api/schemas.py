"""What the data API answers, for the OpenAPI document (/docs): one record schema per resource.

Responses are serialised straight from projected dicts (see `service.dumps`); these schemas describe them.
Each field says which scope unlocks it and whether that scope is sensitive. Only fields the effective
scopes unlock are present, and fields without a value in the MIS are left out.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.data_api.projection import RESOURCES
from gateway.mis.records import RECORD_MODELS
from gateway.scopes import CATALOGUE, scopes_for_field

__all__ = ["ChangesPage", "Resync", "Tombstone", "Upsert", "list_schema", "record_schema"]

_UPDATED_AT = {
    "type": "string",
    "format": "date-time",
    "description": "When the gateway last received this record from the school's MIS. Metadata: always sent.",
}


def _scope_note(resource: str, name: str) -> str:
    owners = sorted(scopes_for_field(resource, name))
    if not owners:
        return "Not shared."
    scope = CATALOGUE[owners[0]]
    return f"Scope `{scope.name}`" + (" (sensitive)." if scope.sensitive else ".")


@cache
def record_schema(resource: str) -> dict[str, Any]:
    """JSON Schema of one projected record of `resource`, each field annotated with its scope."""
    model = RECORD_MODELS[resource]
    source = model.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    properties: dict[str, Any] = {}
    for name, prop in source["properties"].items():
        described = {key: value for key, value in prop.items() if key not in {"default", "title"}}
        note = _scope_note(resource, name)
        if resource == "groups" and name == "student_ids":
            note += " Only pupils in the grant's audience are listed."
        described["description"] = note
        properties[name] = described
    properties["updated_at"] = _UPDATED_AT
    scopes = sorted({owner for name in properties for owner in scopes_for_field(resource, name)})
    return {
        "type": "object",
        "title": f"{resource} record",
        "description": (
            f"{RESOURCES[resource].title}, projected to the fields the token's effective scopes unlock "
            f"(scopes that unlock fields here: {', '.join(f'`{s}`' for s in scopes)}). Absent fields are "
            "either not granted or empty in the MIS."
        ),
        "properties": properties,
        "required": ["id", "updated_at"],
    }


def list_schema(resource: str) -> dict[str, Any]:
    return {
        "type": "object",
        "title": f"{resource} page",
        "properties": {
            "data": {"type": "array", "items": record_schema(resource)},
            "next_cursor": {
                "anyOf": [{"type": "string"}, {"type": "null"}],
                "description": "Pass as `cursor` for the next page; null on the last page.",
            },
        },
        "required": ["data", "next_cursor"],
    }


class Upsert(BaseModel):
    model_config = ConfigDict(title="Change: upsert")

    resource: str = Field(description="The resource name, as in `RESOURCES` (e.g. `students`).")
    id: str
    deleted: Literal[False]
    change_seq: int = Field(description="The school's change number of this version.")
    record: dict[str, Any] = Field(description="The record, projected as its listing endpoint sends it.")


class Tombstone(BaseModel):
    model_config = ConfigDict(title="Change: tombstone")

    resource: str
    id: str
    deleted: Literal[True]
    reason: Literal["deleted", "left_audience"] = Field(
        description="`deleted`: the school deleted the record. `left_audience`: it still exists but this "
        "app may no longer see it (the pupil left the granted groups or the school, the audience was "
        "narrowed, a contact is no longer linked to a visible pupil). Either way, delete your copy."
    )


class Resync(BaseModel):
    model_config = ConfigDict(title="Change: resync")

    resync: Literal[True]
    reason: Literal["grant_changed", "cursor_expired", "audience_changed"] = Field(
        description="Delete everything you hold for this school, then keep reading with `next_cursor`: "
        "the feed starts again from the beginning."
    )


class ChangesPage(BaseModel):
    changes: list[Upsert | Tombstone | Resync]
    next_cursor: str = Field(description="Pass as `cursor` next time (always present; keep the last one).")
    has_more: bool = Field(description="True: call again at once. False: you are up to date for now.")
