"""What the connector API reads and answers (SPEC §3.7), and the JSON Schemas of the MIS records it takes.

`record_schemas` gives the OpenAPI components the batch body refers to; `app.finish_openapi` adds them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, JsonValue, TypeAdapter
from pydantic.json_schema import models_json_schema

from gateway.mis.records import RECORD_MODELS, RecordId

RECORD_SCHEMA_NAMES = [model.__name__ for model in RECORD_MODELS.values()]


def record_schemas() -> dict[str, Any]:
    """JSON Schemas of every connector record, for the OpenAPI components the batch body refers to."""
    _, top = models_json_schema(
        [(model, "validation") for model in RECORD_MODELS.values()],
        ref_template="#/components/schemas/{model}",
    )
    schemas: dict[str, Any] = top["$defs"]
    return schemas


class BatchIn(BaseModel):
    """Records to write and ids to delete, all or nothing. Each upsert is the resource's record."""

    upsert: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Records of the resource, in full: each is the resource's `…Record` schema.",
        json_schema_extra={
            "items": {"oneOf": [{"$ref": f"#/components/schemas/{n}"} for n in RECORD_SCHEMA_NAMES]}
        },
    )
    # Typed `Any` so each bad id is reported by index with the records' errors (`mis.validation`); the
    # schema says what an id is.
    delete: list[Any] = Field(
        default_factory=list,
        description="Ids of records to delete (tombstoned).",
        json_schema_extra={"items": TypeAdapter(RecordId).json_schema()},
    )
    sync_id: uuid.UUID | None = Field(
        default=None, description="The full sync this batch belongs to, if any."
    )


class BatchOut(BaseModel):
    resource: str
    upserted: int
    deleted: int
    not_found: int = Field(description="Ids in `delete` that were not live records.")
    last_change_seq: int | None


class SyncIn(BaseModel):
    # Checked against the catalogue by the service (404 for an unknown one); the schema lists them.
    resources: list[str] = Field(
        min_length=1,
        max_length=20,
        description="Resources this full sync covers, each once.",
        json_schema_extra={"items": {"type": "string", "enum": list[JsonValue](sorted(RECORD_MODELS))}},
    )


class SyncOut(BaseModel):
    id: uuid.UUID
    resources: list[str]
    state: str
    started_at: datetime
    completed_at: datetime | None
    tombstoned: int


class ResourceStatus(BaseModel):
    records: int
    deleted: int
    last_updated_at: datetime | None


class StatusOut(BaseModel):
    school_id: uuid.UUID
    last_change_seq: int
    last_sync: SyncOut | None
    resources: dict[str, ResourceStatus]
