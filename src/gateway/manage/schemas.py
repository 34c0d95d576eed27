"""Request and response bodies of `/manage/v1/api-keys`. A key's secret appears only in `ApiKeyCreated`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from gateway.manage.models import NAME_MAX_LENGTH

KeyName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=NAME_MAX_LENGTH, pattern=r"^[^\x00-\x1f\x7f]+$"
    ),
]


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: KeyName = Field(
        description="A label to tell keys apart, such as the script that uses it (not a secret).",
        examples=["Nightly grants report"],
    )


class ApiKeyCreated(BaseModel):
    key: str = Field(description="The key itself, `gw_sk_…`. Shown this once: store it in a secret store.")
    prefix: str = Field(description="Names the key in lists, logs and `DELETE /manage/v1/api-keys/{prefix}`.")
    name: str
    created_at: datetime


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    prefix: str
    name: str
    created_at: datetime
    last_used_at: datetime | None = Field(description="To the minute; null if never used.")
    revoked_at: datetime | None = Field(description="Null while the key works.")


class ApiKeyList(BaseModel):
    api_keys: list[ApiKeyOut] = Field(description="The school's keys, oldest first, revoked ones included.")
