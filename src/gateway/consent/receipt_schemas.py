"""The JSON of consent receipts: `/manage/v1/grants/{id}/receipts`, `/api/v1/app/receipts` (SPEC §3.6)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from gateway.consent.receipts import StoredReceipt


class ReceiptOut(BaseModel):
    id: uuid.UUID = Field(description="The receipt id (the JWS's `jti`).")
    grant_id: uuid.UUID
    seq: int = Field(description="1 for the grant's first receipt, then one more per decision.")
    decision: str = Field(description="`approved`, `widened`, `narrowed`, `revoked` or `disconnected`.")
    created_at: datetime = Field(description="When the decision was made (the JWS's `decided_at`).")
    hash: str = Field(description="SHA-256 (hex) of `jws`: the grant's next receipt names it as `prev_hash`.")
    jws: str = Field(
        description="The signed receipt: a compact JWS (ES256, header `typ: consent-receipt+jwt` and `kid`), "
        "checked offline with `/.well-known/jwks.json` or `gateway receipts verify FILE`."
    )
    claims: dict[str, Any] = Field(
        description="The JWS's payload, decoded for reading (only the signature proves it): iss, jti, iat, "
        "decided_at, grant_id, seq, prev_hash, decision, actor, school {id, name, urn}, app {client_id, "
        "name}, developer {name}, scopes, fields {resource: [field]}, sensitive_approvals [{scope, "
        "approved_by (`admin:<id>`), approved_at}], audience {whole_school, group_ids, excluded_count}. "
        "No pupil data."
    )

    @classmethod
    def of(cls, receipt: StoredReceipt) -> ReceiptOut:
        row = receipt.row
        return cls(
            id=row.id,
            grant_id=row.grant_id,
            seq=row.seq,
            decision=row.decision,
            created_at=row.created_at,
            hash=row.hash,
            jws=row.jws,
            claims=receipt.claims,
        )


class ReceiptList(BaseModel):
    receipts: list[ReceiptOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
