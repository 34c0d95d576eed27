"""Whether a verified access token may be used now (SPEC §3.4, §3.5): one decision, pure.

The bearer check of the data API and introspection (RFC 7662) both ask this, with what one query loaded
(`oauth.presented.state_of`), so they can never disagree about the same token. A token whose signature,
issuer, audience or key is wrong never gets here (`tokens.verification.verify_ours` refuses it). Then:

1. expired (no leeway: the gateway's own clock issued it) → refused;
2. its app no longer exists (deleted) → refused;
3. a revocation is recorded for its `jti` → refused;
4. an app-level token (no school) is otherwise active, with its own scopes;
5. a school token needs its grant, for the school and app it names, to exist and be live;
6. and its `jti` recorded at issue under that grant (every school token is);
7. its scopes now are the token's ∩ the grant's current scopes (a narrowed grant narrows tokens already
   issued); none left → refused.

Refusal reasons go to logs only; clients see one `invalid_token` (or `{"active": false}`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from gateway.scopes import effective_scopes
from gateway.tokens.access_tokens import AccessTokenClaims


class Refusal(StrEnum):
    EXPIRED = "expired"
    INVALID_IDS = "invalid_ids"
    APP_NOT_FOUND = "app_not_found"
    GRANT_NOT_FOUND = "grant_not_found"  # no such grant for this school and app
    GRANT_REVOKED = "grant_revoked"
    TOKEN_NOT_RECORDED = "token_not_recorded"  # noqa: S105 (a reason, not a secret)
    TOKEN_REVOKED = "token_revoked"  # noqa: S105 (a reason, not a secret)
    NO_SCOPE_LEFT = "no_scope_left"


@dataclass(frozen=True, slots=True)
class GrantFacts:
    id: uuid.UUID
    school_id: uuid.UUID
    app_id: uuid.UUID
    scopes: frozenset[str]
    revoked: bool


@dataclass(frozen=True, slots=True)
class Recorded:
    """What the database holds about a token, loaded in one query."""

    app_id: uuid.UUID | None  # the token's app, by its client id; None once deleted
    grant: GrantFacts | None  # school tokens: the grant the token names, for its school and app
    recorded_grant_id: uuid.UUID | None  # the token's own row (if any): the grant it was issued under
    recorded: bool  # a row exists for the jti
    revoked: bool  # that row says the token was revoked


@dataclass(frozen=True, slots=True)
class Verdict:
    refusal: Refusal | None
    scopes: frozenset[str] = frozenset()

    @property
    def active(self) -> bool:
        return self.refusal is None


def _refused(reason: Refusal) -> Verdict:
    return Verdict(reason)


def school_token_ids(claims: AccessTokenClaims) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(grant id, school id) of a school token; None for an app-level token; ValueError if malformed."""
    if claims.school_id is None and claims.grant_id is None:
        return None
    return uuid.UUID(str(claims.grant_id)), uuid.UUID(str(claims.school_id))


def decide(claims: AccessTokenClaims, recorded: Recorded, *, now: datetime) -> Verdict:
    """The state of a verified token (see the module's note for the order of the checks)."""
    if claims.expires_at <= now:
        return _refused(Refusal.EXPIRED)
    try:
        ids = school_token_ids(claims)
    except ValueError:
        return _refused(Refusal.INVALID_IDS)
    if recorded.app_id is None:
        return _refused(Refusal.APP_NOT_FOUND)
    if recorded.revoked:
        return _refused(Refusal.TOKEN_REVOKED)
    if ids is None:
        return Verdict(None, frozenset(claims.scopes))
    grant_id, school_id = ids
    grant = recorded.grant
    if grant is None or (grant.id, grant.school_id, grant.app_id) != (grant_id, school_id, recorded.app_id):
        return _refused(Refusal.GRANT_NOT_FOUND)
    if grant.revoked:
        return _refused(Refusal.GRANT_REVOKED)
    if not recorded.recorded or recorded.recorded_grant_id != grant_id:
        return _refused(Refusal.TOKEN_NOT_RECORDED)
    scopes = effective_scopes(claims.scopes, grant.scopes)
    if not scopes:
        return _refused(Refusal.NO_SCOPE_LEFT)
    return Verdict(None, scopes)
