"""When a code or token row may be deleted (SPEC §3.4, §5): the rules the scheduled purge applies.

Every row here is kept while anything could still read it, and no longer:

- **Access tokens** (`access_tokens`): `tokens.state.decide` refuses a token whose `exp` has passed before it
  looks at the row, so the row (its revocation, its grant) matters only until then. Deleted once expired.
- **Refresh tokens** (`refresh_tokens`), used, revoked or neither: `grant_types.refresh_token` refuses an
  expired refresh token before any reuse check, so reuse detection (a used token presented again after the
  retry window revokes its family, RFC 9700 §4.14.2) needs a row exactly until its own `expires_at`: a
  rotated token is kept for the rest of its 30 days, then deleted with the others. Its successors carry the
  same `family_id`, so deleting an expired member never stops the family from being revoked.
- **Authorization codes** (`authorization_codes`): an unused code is useless once expired (60 s). A used
  code is checked for reuse *before* its expiry, so presenting it again at any time revokes its family;
  its row is therefore kept while the family still has a refresh or access token that is neither expired
  nor revoked (something a replay would still have to end), and deleted once it has none.

`PURGE_MARGIN` is added to every expiry: a process whose clock is a little behind, or a verifier's leeway
(`keys.signing_policy.CLOCK_SKEW`), never finds a row gone that it would still count as live. Deletions are
plain `DELETE … WHERE` statements; they are idempotent, so two runs (or a run cut short and repeated)
delete each row once. Services flush, never commit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from gateway.db.guarded import changed_rows
from gateway.tokens.models import AuthorizationCode, IssuedAccessToken, RefreshToken

PURGE_MARGIN: Final = timedelta(minutes=5)
"""How long after its expiry a row is still kept: ten times `CLOCK_SKEW`, the verifiers' leeway."""


@dataclass(frozen=True, slots=True)
class TokenPurge:
    """How many rows of each table one purge deleted (counts only: nothing else is reported)."""

    authorization_codes: int = 0
    refresh_tokens: int = 0
    access_tokens: int = 0

    def counts(self) -> dict[str, int]:
        return asdict(self)


def purge_cutoff(now: datetime) -> datetime:
    """Rows that expired at or before this instant may be deleted."""
    return now - PURGE_MARGIN


async def purge_expired_tokens(session: AsyncSession, *, now: datetime) -> TokenPurge:
    """Delete the codes, refresh tokens and access-token rows nothing can use any more (the module's rules).
    The order of the three statements does not matter: a family member this purge deletes has expired, so
    it kept no code alive anyway."""
    cutoff = purge_cutoff(now)
    codes = await changed_rows(
        session,
        delete(AuthorizationCode).where(
            AuthorizationCode.expires_at <= cutoff,
            or_(AuthorizationCode.used_at.is_(None), ~_family_has_live_token(now)),
        ),
    )
    refresh = await changed_rows(session, delete(RefreshToken).where(RefreshToken.expires_at <= cutoff))
    access = await changed_rows(
        session, delete(IssuedAccessToken).where(IssuedAccessToken.expires_at <= cutoff)
    )
    return TokenPurge(authorization_codes=codes, refresh_tokens=refresh, access_tokens=access)


def _family_has_live_token(now: datetime) -> ColumnElement[bool]:
    """A refresh or access token of the code's family (`family_id` = the code's id) that a replay of the
    code would still revoke: neither expired nor revoked."""
    live_refresh = select(RefreshToken.id).where(
        RefreshToken.family_id == AuthorizationCode.id,
        RefreshToken.revoked_at.is_(None),
        RefreshToken.expires_at > now,
    )
    live_access = select(IssuedAccessToken.jti).where(
        IssuedAccessToken.family_id == AuthorizationCode.id,
        IssuedAccessToken.revoked_at.is_(None),
        IssuedAccessToken.expires_at > now,
    )
    return or_(live_refresh.exists(), live_access.exists())
