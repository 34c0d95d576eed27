"""Validate a connector batch as a whole (pure): every bad record reported by index and JSON pointer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from pydantic import TypeAdapter, ValidationError

from gateway.errors import field_error, json_pointer
from gateway.mis.records import RECORD_MODELS, MisRecord, RecordId

MAX_BATCH_RECORDS = 5_000
MAX_LISTED_ERRORS = 200

_RECORD_ID: TypeAdapter[str] = TypeAdapter(RecordId)


@dataclass(frozen=True, slots=True)
class ValidBatch:
    resource: str
    upserts: list[MisRecord]
    deletes: list[str]


class BatchRejected(Exception):
    def __init__(self, errors: list[dict[str, str]], total: int) -> None:
        super().__init__(f"{total} problems")
        self.errors = errors
        self.total = total


class BatchTooLarge(Exception):
    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.count = count


def validate_batch(
    resource: str, upserts: Sequence[Any], deletes: Sequence[Any], *, today: date
) -> ValidBatch:
    """All records or none: returns validated models, or raises with every problem found."""
    if len(upserts) + len(deletes) > MAX_BATCH_RECORDS:
        raise BatchTooLarge(len(upserts) + len(deletes))
    model = RECORD_MODELS[resource]
    errors: list[dict[str, str]] = []
    valid: list[MisRecord] = []
    seen: dict[str, int] = {}
    context = {"today": today}
    for index, raw in enumerate(upserts):
        try:
            record = cast(MisRecord, model.model_validate(raw, context=context))
        except ValidationError as exc:
            errors.extend(_located(exc, ("upsert", index)))
            continue
        record_id = str(record.id)  # type: ignore[attr-defined]
        if record_id in seen:
            errors.append(
                field_error(
                    f"duplicates the id of record {seen[record_id]}",
                    pointer=json_pointer(("upsert", index, "id")),
                )
            )
        seen[record_id] = index
        valid.append(record)
    delete_ids: list[str] = []
    for index, raw in enumerate(deletes):
        try:
            record_id = _RECORD_ID.validate_python(raw, strict=True)
        except ValidationError:
            errors.append(
                field_error(
                    "must be a record id (1 to 64 of A-Z a-z 0-9 . _ : -)",
                    pointer=json_pointer(("delete", index)),
                )
            )
            continue
        if record_id in seen:
            errors.append(field_error("is also in upsert", pointer=json_pointer(("delete", index))))
        delete_ids.append(record_id)
    if len(set(delete_ids)) != len(delete_ids):
        errors.append(field_error("lists an id more than once", pointer=json_pointer(("delete",))))
    if errors:
        raise BatchRejected(errors[:MAX_LISTED_ERRORS], len(errors))
    return ValidBatch(resource, valid, delete_ids)


def _located(exc: ValidationError, prefix: tuple[str | int, ...]) -> list[dict[str, str]]:
    return [
        field_error(str(error["msg"]), pointer=json_pointer((*prefix, *error["loc"])))
        for error in exc.errors(include_input=False, include_url=False)
    ]
