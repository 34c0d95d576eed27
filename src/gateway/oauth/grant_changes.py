"""A school's own view of its grants, and the two changes it may make alone (SPEC §3.6, §4).

- **Read**: the grant with its app, scopes (required or optional for the app, sensitive or not), who
  approved each sensitive scope and when, the audience, live token counts and the last data access.
- **Narrow**: drop optional scopes and shrink the audience. `plan_narrowing` (pure) decides whether a
  request narrows; anything that widens is refused, because widening is the app's to ask for through the
  consent page (SPEC §3.3). The change is one guarded UPDATE on the grant as it was read, so a revoke or
  another change that commits first is never overwritten. Sensitive approvals of removed scopes go.
- **Revoke**: `grants.revoke_grant`, which ends the refresh tokens; access tokens die at their next use.

Both changes take effect on the very next request: `oauth.bearer` loads the live grant every time and
intersects the token's scopes with the grant's. Each is an event in the school's authorisation log.
Every query here is bound to one school (`SchoolGrants`): another school's grant id is simply not found.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Final

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.access_log.models import DataAccess
from gateway.apps.models import App
from gateway.audit.events import EventType
from gateway.audit.service import record_event
from gateway.developers.models import Developer
from gateway.errors import Conflict, InvalidInput, NotFound, field_error
from gateway.keys.keyring import Keyring
from gateway.mis.reading import live_records
from gateway.oauth.consent import MAX_AUDIENCE_IDS, Audience, Choice, group_choices, student_choices
from gateway.oauth.grants import revoke_grant
from gateway.oauth.models import Grant, IssuedAccessToken, RefreshToken, SensitiveApproval, audience_json
from gateway.scopes import ALWAYS_GRANTED, CATALOGUE, Scope, expand, format_scopes, sort_scopes
from gateway.scopes.parsing import parse_scope_string

__all__ = [
    "MAX_AUDIENCE_IDS",
    "GrantChanged",
    "GrantEnded",
    "GrantNotFound",
    "GrantPage",
    "GrantState",
    "GrantSummary",
    "GrantView",
    "GrantedScope",
    "InvalidCursor",
    "NarrowPlan",
    "Narrowing",
    "NarrowingRefused",
    "SchoolGrants",
    "audience_choices",
    "group_names",
    "list_grants",
    "narrow",
    "plan_narrowing",
    "read_grant",
    "revoke",
]

MAX_PAGE: Final = 500
WIDENING: Final = "Widening a grant needs the app to ask again, through the consent page."


class GrantNotFound(NotFound):
    slug, title = "grant-not-found", "Grant not found"

    def __init__(self) -> None:
        super().__init__("The school has no grant with this id.")


class GrantEnded(Conflict):
    slug, title = "grant-revoked", "Grant already revoked"

    def __init__(self) -> None:
        super().__init__("This grant has been revoked: it can no longer be narrowed or revoked.")


class GrantChanged(Conflict):
    slug, title = "grant-changed", "Grant changed meanwhile"

    def __init__(self) -> None:
        super().__init__("The grant changed while this request was handled. Read it again, then retry.")


class NarrowingRefused(InvalidInput):
    """The request would widen the grant, or asks for something that cannot be taken away alone."""

    slug, title = "narrowing-refused", "Not a narrowing"


class InvalidCursor(InvalidInput):
    def __init__(self) -> None:
        super().__init__(
            "The cursor is not one this endpoint handed out.",
            errors=[field_error("not a cursor from this list", parameter="cursor")],
        )


class GrantState(StrEnum):
    LIVE = "live"
    REVOKED = "revoked"
    ALL = "all"


# --- Deciding a narrowing (pure) ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Narrowing:
    """What the school asks: scopes to drop, and the whole new audience (None: keep the audience)."""

    remove_scopes: tuple[str, ...] = ()
    audience: Audience | None = None


@dataclass(frozen=True, slots=True)
class NarrowPlan:
    scopes: frozenset[str]
    removed: frozenset[str]
    audience: Audience


def plan_narrowing(
    held: frozenset[str],
    required: frozenset[str],
    current: Audience,
    request: Narrowing,
    *,
    known_groups: Iterable[str] = (),
    known_students: Iterable[str] = (),
) -> NarrowPlan:
    """The narrowed grant, or `NarrowingRefused` listing every reason (each with its JSON pointer).

    `required` is the app's required scopes, expanded: those, and `school`, go only with the whole grant.
    Groups not already in the grant must be in `known_groups`, new exclusions in `known_students`.
    """
    problems = _scope_problems(held, required, request.remove_scopes)
    audience = current if request.audience is None else request.audience
    if request.audience is not None:
        problems += _audience_problems(current, request.audience, set(known_groups), set(known_students))
    removed = frozenset(request.remove_scopes)
    if not problems and not removed and _same(audience, current):
        problems.append(
            field_error(
                "Nothing would change: name optional scopes to remove or a smaller audience.", pointer="#"
            )
        )
    if problems:
        raise NarrowingRefused("The request does not narrow this grant.", errors=problems)
    return NarrowPlan(scopes=held - removed, removed=removed, audience=audience)


def _named(name: str) -> str:
    return f"“{CATALOGUE[name].title}” ({name})"


def _scope_problems(
    held: frozenset[str], required: frozenset[str], remove: Sequence[str]
) -> list[dict[str, str]]:
    problems: list[dict[str, str]] = []
    removing = set(remove)
    keeping = held - removing
    for index, name in enumerate(remove):
        pointer = f"#/remove_scopes/{index}"
        if name not in CATALOGUE:
            problems.append(field_error("Not a scope of the catalogue.", pointer=pointer))
        elif name not in held:
            problems.append(field_error(f"The grant does not hold {_named(name)}.", pointer=pointer))
        elif name in required or name in ALWAYS_GRANTED:
            problems.append(
                field_error(
                    f"{_named(name)} is required by the app, so it cannot be removed on its own: "
                    "revoke the grant instead.",
                    pointer=pointer,
                )
            )
        elif implied_by := sort_scopes(s for s in keeping if name in expand({s}) and s != name):
            problems.append(
                field_error(
                    f"{_named(name)} comes with {', '.join(map(_named, implied_by))}, which stays shared: "
                    "remove that too, or keep this.",
                    pointer=pointer,
                )
            )
    return problems


def _audience_problems(
    current: Audience, new: Audience, known_groups: set[str], known_students: set[str]
) -> list[dict[str, str]]:
    problems: list[dict[str, str]] = []
    groups = "#/audience/groups"
    if new.groups is not None and not new.groups:
        problems.append(
            field_error("Choose at least one group; to share nothing, revoke the grant.", pointer=groups)
        )
    elif current.groups is not None and new.groups is None:
        problems.append(
            field_error(
                f"The grant covers chosen groups only: the whole school would widen it. {WIDENING}",
                pointer=groups,
            )
        )
    elif current.groups is not None and new.groups is not None and set(new.groups) - set(current.groups):
        count = len(set(new.groups) - set(current.groups))
        problems.append(
            field_error(
                f"{count} of the groups are not in the grant: adding them widens it. {WIDENING}",
                pointer=groups,
            )
        )
    elif current.groups is None and new.groups is not None and set(new.groups) - known_groups:
        count = len(set(new.groups) - known_groups)
        problems.append(
            field_error(
                f"{count} of the groups are not year, registration or teaching groups of the school.",
                pointer=groups,
            )
        )
    exclude = "#/audience/exclude"
    if no_longer := set(current.exclude) - set(new.exclude):
        problems.append(
            field_error(
                f"{len(no_longer)} pupils hidden from the app now would become visible: "
                f"that widens the grant. {WIDENING}",
                pointer=exclude,
            )
        )
    if unknown := set(new.exclude) - set(current.exclude) - known_students:
        problems.append(
            field_error(
                f"{len(unknown)} of the pupils to hide are not on the school's roll.", pointer=exclude
            )
        )
    return problems


def _same(a: Audience, b: Audience) -> bool:
    groups_a = None if a.groups is None else set(a.groups)
    groups_b = None if b.groups is None else set(b.groups)
    return groups_a == groups_b and set(a.exclude) == set(b.exclude)


# --- Reading ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GrantedScope:
    scope: Scope
    required: bool  # required by the app (or always granted): goes only with the whole grant
    approval: SensitiveApproval | None  # for a sensitive scope: who approved it, when


@dataclass(frozen=True, slots=True)
class GrantSummary:
    grant: Grant
    app: App
    developer_name: str
    last_access_at: datetime | None

    @property
    def audience(self) -> Audience:
        return Audience.of(self.grant)

    @property
    def scopes(self) -> tuple[Scope, ...]:
        return tuple(CATALOGUE[name] for name in sort_scopes(self.grant.scope_set))


@dataclass(frozen=True, slots=True)
class GrantView(GrantSummary):
    granted: tuple[GrantedScope, ...]
    refresh_families: int  # live refresh-token families: each one a running connection of the app
    access_tokens: int  # unexpired access tokens still usable (none once the grant is revoked)


@dataclass(frozen=True, slots=True)
class GrantPage:
    grants: list[GrantSummary]
    next_cursor: str | None


def _encode_cursor(grant: Grant) -> str:
    raw = f"{grant.created_at.isoformat()}|{grant.id}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    if len(cursor) > 200:
        raise InvalidCursor
    try:
        at, _, grant_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition("|")
        when = datetime.fromisoformat(at)
        if when.tzinfo is None:
            raise ValueError(at)
        return when, uuid.UUID(grant_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor from None


class SchoolGrants:
    """One school's grants. Another school's grant id is simply not there."""

    def __init__(self, session: AsyncSession, school_id: uuid.UUID) -> None:
        self.session = session
        self.school_id = school_id

    async def get(self, grant_id: uuid.UUID) -> Grant:
        grant = await self.session.scalar(
            select(Grant).where(Grant.id == grant_id, Grant.school_id == self.school_id)
        )
        if grant is None:
            raise GrantNotFound
        return grant

    async def page(
        self, state: GrantState, *, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> list[tuple[Grant, App, str | None]]:
        """Newest first, keyset-paged on (created_at, id)."""
        query = (
            select(Grant, App, Developer.name)
            .join(App, App.id == Grant.app_id)
            .outerjoin(Developer, Developer.id == App.developer_id)
            .where(Grant.school_id == self.school_id)
            .order_by(Grant.created_at.desc(), Grant.id.desc())
            .limit(limit)
        )
        if state is GrantState.LIVE:
            query = query.where(Grant.revoked_at.is_(None))
        elif state is GrantState.REVOKED:
            query = query.where(Grant.revoked_at.is_not(None))
        if after is not None:
            at, grant_id = after
            query = query.where(or_(Grant.created_at < at, and_(Grant.created_at == at, Grant.id < grant_id)))
        return [(grant, app, name) for grant, app, name in (await self.session.execute(query)).all()]

    async def last_access(self, grant_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, datetime]:
        if not grant_ids:
            return {}
        rows = await self.session.execute(
            select(DataAccess.grant_id, func.max(DataAccess.occurred_at))
            .where(DataAccess.school_id == self.school_id, DataAccess.grant_id.in_(grant_ids))
            .group_by(DataAccess.grant_id)
        )
        return {grant_id: _aware(at) for grant_id, at in rows.all() if at is not None}

    async def approvals(self, grant_id: uuid.UUID) -> dict[str, SensitiveApproval]:
        rows = await self.session.scalars(
            select(SensitiveApproval)
            .join(Grant, Grant.id == SensitiveApproval.grant_id)
            .where(SensitiveApproval.grant_id == grant_id, Grant.school_id == self.school_id)
        )
        return {row.scope: row for row in rows}

    async def token_counts(self, grant: Grant, now: datetime) -> tuple[int, int]:
        """(live refresh-token families, usable access tokens); both 0 once the grant is revoked."""
        if grant.school_id != self.school_id or grant.revoked_at is not None:
            return 0, 0
        families = await self.session.scalar(
            select(func.count(func.distinct(RefreshToken.family_id))).where(
                RefreshToken.grant_id == grant.id,
                RefreshToken.school_id == self.school_id,
                RefreshToken.used_at.is_(None),
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > now,
            )
        )
        tokens = await self.session.scalar(
            select(func.count()).where(
                IssuedAccessToken.grant_id == grant.id,
                IssuedAccessToken.revoked_at.is_(None),
                IssuedAccessToken.expires_at > now,
            )
        )
        return families or 0, tokens or 0

    async def narrow(self, grant: Grant, plan: NarrowPlan, now: datetime) -> bool:
        """Apply `plan` only if the grant is still live and exactly as it was read: one guarded UPDATE."""
        result = await self.session.execute(
            update(Grant)
            .where(
                Grant.id == grant.id,
                Grant.school_id == self.school_id,
                Grant.revoked_at.is_(None),
                Grant.scopes == grant.scopes,
                Grant.audience_json.is_not_distinct_from(grant.audience_json),
            )
            .values(
                scopes=format_scopes(plan.scopes),
                audience_json=audience_json(plan.audience.stored()),
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if not getattr(result, "rowcount", 0):
            return False
        if plan.removed:
            await self.session.execute(
                delete(SensitiveApproval)
                .where(SensitiveApproval.grant_id == grant.id, SensitiveApproval.scope.in_(plan.removed))
                .execution_options(synchronize_session=False)
            )
        await self.session.refresh(grant)
        return True


def _aware(value: datetime) -> datetime:
    """`max()` comes back without the column type on SQLite: a naive UTC datetime (or its text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def list_grants(
    session: AsyncSession,
    school_id: uuid.UUID,
    *,
    state: GrantState = GrantState.LIVE,
    limit: int = 100,
    cursor: str | None = None,
) -> GrantPage:
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}")
    repo = SchoolGrants(session, school_id)
    rows = await repo.page(state, limit=limit + 1, after=_decode_cursor(cursor) if cursor else None)
    more = len(rows) > limit
    rows = rows[:limit]
    last = await repo.last_access([grant.id for grant, _app, _name in rows])
    return GrantPage(
        [GrantSummary(grant, app, name or "", last.get(grant.id)) for grant, app, name in rows],
        _encode_cursor(rows[-1][0]) if more else None,
    )


async def read_grant(
    session: AsyncSession, school_id: uuid.UUID, grant_id: uuid.UUID, *, now: datetime
) -> GrantView:
    repo = SchoolGrants(session, school_id)
    grant = await repo.get(grant_id)
    app = await session.get(App, grant.app_id)
    if app is None:  # the apps row cascades to its grants, so this is a race with a deletion
        raise GrantNotFound
    developer = await session.get(Developer, app.developer_id)
    required = expand(parse_scope_string(app.required_scopes)) | ALWAYS_GRANTED
    approvals = await repo.approvals(grant.id)
    granted = tuple(
        GrantedScope(
            CATALOGUE[name], name in required, approvals.get(name) if CATALOGUE[name].sensitive else None
        )
        for name in sort_scopes(grant.scope_set)
    )
    families, tokens = await repo.token_counts(grant, now)
    return GrantView(
        grant=grant,
        app=app,
        developer_name=developer.name if developer is not None else "",
        last_access_at=(await repo.last_access([grant.id])).get(grant.id),
        granted=granted,
        refresh_families=families,
        access_tokens=tokens,
    )


async def audience_choices(
    session: AsyncSession, keyring: Keyring, school_id: uuid.UUID, today: date
) -> tuple[dict[str, list[Choice]], list[Choice]]:
    """The consent page's choices: current year, registration and teaching groups; pupils on roll."""
    return (
        await group_choices(session, keyring, school_id, today),
        await student_choices(session, keyring, school_id, today),
    )


async def group_names(session: AsyncSession, keyring: Keyring, school_id: uuid.UUID) -> dict[str, str]:
    """Every live group's name by id, to say which groups a grant covers (a deleted group has none)."""
    return {group["id"]: group["name"] for group in await live_records(session, keyring, school_id, "groups")}


async def narrow(
    session: AsyncSession,
    keyring: Keyring,
    school_id: uuid.UUID,
    grant_id: uuid.UUID,
    request: Narrowing,
    *,
    actor: str,
    now: datetime,
) -> GrantView:
    """Narrow a live grant of the school and record `grant.narrowed`; the next request sees it."""
    repo = SchoolGrants(session, school_id)
    grant = await repo.get(grant_id)
    if grant.revoked_at is not None:
        raise GrantEnded
    app = await session.get(App, grant.app_id)
    if app is None:
        raise GrantNotFound
    current = Audience.of(grant)
    known_groups: set[str] = set()
    known_students: set[str] = set()
    if request.audience is not None:
        groups, students = await _choices_needed(session, keyring, school_id, current, request.audience, now)
        known_groups, known_students = groups, students
    plan = plan_narrowing(
        grant.scope_set,
        expand(parse_scope_string(app.required_scopes)),
        current,
        request,
        known_groups=known_groups,
        known_students=known_students,
    )
    if not await repo.narrow(grant, plan, now):
        raise GrantEnded if await _revoked(session, grant.id) else GrantChanged
    await record_event(
        session,
        school_id=school_id,
        event_type=EventType.GRANT_NARROWED,
        actor=actor,
        details={
            "grant_id": str(grant.id),
            "app_id": str(grant.app_id),
            "scopes_removed": format_scopes(plan.removed),
            "scopes": grant.scopes,
            "audience": plan.audience.summary(),
        },
        occurred_at=now,
    )
    return await read_grant(session, school_id, grant.id, now=now)


async def _choices_needed(
    session: AsyncSession,
    keyring: Keyring,
    school_id: uuid.UUID,
    current: Audience,
    new: Audience,
    now: datetime,
) -> tuple[set[str], set[str]]:
    """Decrypt the school's groups or pupils only when the request names ones the grant does not."""
    groups: set[str] = set()
    students: set[str] = set()
    if current.groups is None and new.groups:
        found = await group_choices(session, keyring, school_id, now.date())
        groups = {choice.id for kind in found.values() for choice in kind}
    if set(new.exclude) - set(current.exclude):
        students = {choice.id for choice in await student_choices(session, keyring, school_id, now.date())}
    return groups, students


async def _revoked(session: AsyncSession, grant_id: uuid.UUID) -> bool:
    revoked_at = await session.scalar(
        select(Grant.revoked_at).where(Grant.id == grant_id).execution_options(populate_existing=True)
    )
    return revoked_at is not None


async def revoke(
    session: AsyncSession, school_id: uuid.UUID, grant_id: uuid.UUID, *, actor: str, now: datetime
) -> GrantView:
    """Revoke a live grant of the school: refresh tokens end now, access tokens at their next use."""
    grant = await SchoolGrants(session, school_id).get(grant_id)
    if grant.revoked_at is not None or not await revoke_grant(session, grant, actor=actor, now=now):
        raise GrantEnded
    return await read_grant(session, school_id, grant.id, now=now)
