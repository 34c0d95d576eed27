"""Signed consent receipts (SPEC §3.6): every grant decision yields one, stored in the decision's transaction.

`record_receipt` is called by each decision after the grant has changed: `decisions.approve` (a new grant,
or a widened one), `grants.narrow`, and `grants.revoke_grant` (every ending: the school, the operator, the
app disconnecting). A decision that rolls back takes its receipt with it.

A receipt is a JWS (`consent.receipt_tokens`) signed with the gateway's active signing key. Its claims say
what the grant allows *after* the decision, in terms a school and an app can check offline:

- `iss`, `jti` (the receipt id), `iat`, `decided_at`; `grant_id`, `seq` (1 for the grant's first receipt)
  and `prev_hash`, the SHA-256 of the grant's previous receipt (null for the first): the receipts of a
  grant form a chain, so one cannot be dropped or reordered unnoticed;
- `decision` (approved, widened, narrowed, revoked, disconnected) and `actor`, the opaque actor of the
  authorisation log (`admin:<id>`, `api_key:<prefix>`, `app:<client_id>`, `operator`);
- `school` (id, name, URN), `app` (client_id, name), `developer` (name);
- `scopes` and `fields` (resource -> the exact fields those scopes unlock, `scopes.allowed_fields`): empty
  once the grant has ended;
- `sensitive_approvals`: per sensitive scope still granted, `approved_by` (`admin:<id>`) and `approved_at`.
  The school and the app fetch the same signed receipt, so the approver is the admin's opaque id, never a
  name or email: the school can resolve its own admins' ids, the app learns no one's name;
- `audience`: `whole_school`, the chosen `group_ids` (null for the whole school) and `excluded_count`.
  Never a pupil's id or name: receipts carry no pupil data.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.models import App
from gateway.consent.audience import Audience
from gateway.consent.models import ConsentReceipt, Grant, SensitiveApproval
from gateway.consent.receipt_tokens import receipt_hash, sign_receipt, unverified_claims
from gateway.consent.repository import SchoolGrants
from gateway.db.session import ISSUER_INFO, KEYRING_INFO
from gateway.developers.models import Developer
from gateway.keys.keyring import Keyring
from gateway.schools.models import School
from gateway.scopes import CATALOGUE, allowed_fields, sort_scopes
from gateway.tokens.signing_key import signing_key

MAX_PAGE: Final = 500
DEFAULT_PAGE: Final = 100


class ReceiptDecision(StrEnum):
    APPROVED = "approved"  # a new grant
    WIDENED = "widened"  # incremental consent on a live grant
    NARROWED = "narrowed"
    REVOKED = "revoked"  # by the school, the operator, or on the app's deletion
    DISCONNECTED = "disconnected"  # by the app


class ReceiptSignerMissing(RuntimeError):
    """The session was not given the keyring and issuer a receipt is signed with (`bind_signer`)."""


def bind_signer(session: AsyncSession, keyring: Keyring, issuer: str) -> None:
    """Let decisions made in `session` sign their receipts (requests get this from `request_session`)."""
    session.info[KEYRING_INFO] = keyring
    session.info[ISSUER_INFO] = issuer


def _signer(session: AsyncSession) -> tuple[Keyring, str]:
    keyring, issuer = session.info.get(KEYRING_INFO), session.info.get(ISSUER_INFO)
    if not isinstance(keyring, Keyring) or not isinstance(issuer, str):
        raise ReceiptSignerMissing("a grant decision needs a session bound with bind_signer")
    return keyring, issuer


def _time(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


async def record_receipt(
    session: AsyncSession, grant: Grant, decision: ReceiptDecision, *, actor: str, now: datetime
) -> ConsentReceipt:
    """Sign and store the receipt of a decision just made on `grant` (call it after the grant changed)."""
    keyring, issuer = _signer(session)
    app = await session.get(App, grant.app_id)
    school = await session.get(School, grant.school_id)
    if app is None or school is None:
        raise LookupError("a receipt needs the grant's app and school")
    developer = await session.get(Developer, app.developer_id)
    previous = await session.scalar(
        select(ConsentReceipt)
        .where(ConsentReceipt.grant_id == grant.id)
        .order_by(ConsentReceipt.seq.desc())
        .limit(1)
    )
    live = grant.revoked_at is None
    scopes = list(sort_scopes(grant.scope_set)) if live else []
    approvals = await _approvals(session, grant.id, scopes)
    audience = Audience.of(grant)
    receipt = ConsentReceipt(
        id=uuid.uuid4(),
        grant_id=grant.id,
        school_id=school.id,
        app_id=app.id,
        seq=1 if previous is None else previous.seq + 1,
        decision=decision.value,
        created_at=now,
    )
    claims: dict[str, Any] = {
        "iss": issuer,
        "jti": str(receipt.id),
        "iat": int(now.timestamp()),
        "decided_at": _time(now),
        "grant_id": str(grant.id),
        "seq": receipt.seq,
        "prev_hash": None if previous is None else previous.hash,
        "decision": decision.value,
        "actor": actor,
        "school": {"id": str(school.id), "name": school.name, "urn": school.urn},
        "app": {"client_id": app.client_id, "name": app.name},
        "developer": {"name": developer.name if developer is not None else ""},
        "scopes": scopes,
        "fields": {resource: sorted(names) for resource, names in allowed_fields(scopes).items()}
        if scopes
        else {},
        "sensitive_approvals": approvals,
        "audience": {
            "whole_school": audience.whole_school,
            "group_ids": None if audience.groups is None else list(audience.sorted_groups),
            "excluded_count": len(audience.exclude),
        },
    }
    receipt.jws = sign_receipt(await signing_key(session, keyring), claims)
    receipt.hash = receipt_hash(receipt.jws)
    session.add(receipt)
    await session.flush()
    return receipt


async def _approvals(session: AsyncSession, grant_id: uuid.UUID, scopes: list[str]) -> list[dict[str, Any]]:
    sensitive = [name for name in scopes if CATALOGUE[name].sensitive]
    if not sensitive:
        return []
    rows = await session.scalars(
        select(SensitiveApproval).where(
            SensitiveApproval.grant_id == grant_id, SensitiveApproval.scope.in_(sensitive)
        )
    )
    found = {row.scope: row for row in rows}
    return [
        {
            "scope": name,
            "approved_by": None if found[name].admin_id is None else f"admin:{found[name].admin_id}",
            "approved_at": _time(found[name].approved_at),
        }
        if name in found
        else {"scope": name, "approved_by": None, "approved_at": None}
        for name in sensitive
    ]


@dataclass(frozen=True, slots=True)
class StoredReceipt:
    """A stored receipt with its claims decoded (for display: the JWS is what proves them)."""

    row: ConsentReceipt

    @property
    def claims(self) -> dict[str, Any]:
        return unverified_claims(self.row.jws)


@dataclass(frozen=True, slots=True)
class ReceiptPage:
    receipts: list[StoredReceipt]
    more: bool


async def grant_receipts(
    session: AsyncSession,
    school_id: uuid.UUID,
    grant_id: uuid.UUID,
    *,
    limit: int = DEFAULT_PAGE,
    after_seq: int = 0,
) -> ReceiptPage:
    """The receipts of one of the school's grants in `seq` order; another school's grant is not found."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}")
    await SchoolGrants(session, school_id).get(grant_id)
    rows = list(
        await session.scalars(
            select(ConsentReceipt)
            .where(
                ConsentReceipt.grant_id == grant_id,
                ConsentReceipt.school_id == school_id,
                ConsentReceipt.seq > after_seq,
            )
            .order_by(ConsentReceipt.seq)
            .limit(limit + 1)
        )
    )
    return ReceiptPage([StoredReceipt(row) for row in rows[:limit]], len(rows) > limit)


async def app_receipts(
    session: AsyncSession,
    app_id: uuid.UUID,
    *,
    limit: int = DEFAULT_PAGE,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> ReceiptPage:
    """The receipts of every grant of the app (live or ended), oldest first, keyset-paged."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}")
    query = (
        select(ConsentReceipt)
        .where(ConsentReceipt.app_id == app_id)
        .order_by(ConsentReceipt.created_at, ConsentReceipt.id)
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(tuple_(ConsentReceipt.created_at, ConsentReceipt.id) > tuple_(*after))
    rows = list(await session.scalars(query))
    return ReceiptPage([StoredReceipt(row) for row in rows[:limit]], len(rows) > limit)
