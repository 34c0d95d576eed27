"""The school admin's decision on an authorization request (SPEC §2, §3.3).

`load` gathers what the consent page shows; `check` says what is wrong with a decision (pure);
`approve` creates or widens the grant and issues a code; `deny` ends the request. Rules:
- required scopes are approved together or not at all; optional scopes only when ticked;
- a sensitive scope needs its own confirmation, and only an admin with TOTP enrolled may approve one;
- incremental consent: scopes the live grant already holds stay granted and are not asked again;
- the audience is the whole school or chosen year, registration and teaching groups, minus excluded pupils.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.accounts.models import Admin
from gateway.apps.models import App
from gateway.audit import events
from gateway.audit.events import EventType
from gateway.audit.service import record_event
from gateway.developers.models import Developer
from gateway.keys.keyring import Keyring
from gateway.mis.reading import live_records
from gateway.oauth import issuance
from gateway.oauth.authorization import redirect_location
from gateway.oauth.grants import live_grant
from gateway.oauth.models import AuthorizationRequest, Grant, SensitiveApproval
from gateway.schools.models import School
from gateway.scopes import CATALOGUE, Scope, expand, format_scopes, parse_scope_string, sort_scopes

AUDIENCE_GROUP_TYPES: Final = ("year", "registration", "teaching")
MAX_AUDIENCE_IDS: Final = 2000
_AUDIT_GROUP_IDS: Final = 50


class RequestGone(Exception):
    """The request is unknown, expired or already answered: the app must start again."""


class WrongSchool(Exception):
    """The app asked for a school the signed-in admin does not administer."""


@dataclass(frozen=True, slots=True)
class Choice:
    id: str
    label: str


@dataclass(frozen=True, slots=True)
class Audience:
    """Whole school (`groups` None) or the union of `groups`, minus `exclude` either way."""

    groups: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()

    @classmethod
    def of(cls, grant: Grant | None) -> Audience:
        stored = grant.audience if grant is not None else None
        if not stored:
            return cls()
        groups = stored.get("groups")
        return cls(tuple(groups) if groups is not None else None, tuple(stored.get("exclude") or ()))

    def stored(self) -> dict[str, Any] | None:
        """What `Grant.audience` keeps: None for the whole school, else sorted ids without repeats."""
        if self.groups is None and not self.exclude:
            return None
        return {
            "groups": sorted(set(self.groups)) if self.groups is not None else None,
            "exclude": sorted(set(self.exclude)),
        }

    def summary(self) -> dict[str, Any]:
        """For the authorisation log: ids of groups (or how many), how many pupils excluded."""
        out: dict[str, Any] = {"kind": "school" if self.groups is None else "groups"}
        if self.groups is not None:
            out["group_count"] = len(self.groups)
            if len(self.groups) <= _AUDIT_GROUP_IDS:
                out["group_ids"] = sorted(self.groups)
        out["excluded_count"] = len(self.exclude)
        return out


@dataclass(frozen=True, slots=True)
class ConsentView:
    """Everything the consent page shows, and what a decision is checked against."""

    pending: AuthorizationRequest
    app: App
    developer_name: str
    school: School
    admin: Admin
    grant: Grant | None
    already_granted: tuple[Scope, ...]
    new_required: tuple[Scope, ...]
    new_optional: tuple[Scope, ...]
    groups: dict[str, list[Choice]]
    students: list[Choice]
    audience: Audience

    @property
    def admin_has_totp(self) -> bool:
        return self.admin.totp_enrolled_at is not None

    @property
    def sensitive_new(self) -> tuple[Scope, ...]:
        return tuple(scope for scope in (*self.new_required, *self.new_optional) if scope.sensitive)


@dataclass(frozen=True, slots=True)
class Decision:
    """What the admin submitted (SPEC §9 names: `scope`, `confirm_sensitive`, `decision`)."""

    optional: frozenset[str] = frozenset()
    confirmed: frozenset[str] = frozenset()
    audience_kind: str = "school"
    groups: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    problems: list[str] = field(default_factory=list)


async def open_pending(session: AsyncSession, request_id: str, *, now: datetime) -> AuthorizationRequest:
    pending = await session.get(AuthorizationRequest, request_id) if len(request_id) <= 64 else None
    if pending is None or pending.completed_at is not None or pending.expires_at <= now:
        raise RequestGone
    return pending


def _scopes(names: Iterable[str]) -> tuple[Scope, ...]:
    return tuple(CATALOGUE[name] for name in sort_scopes(names))


async def load(
    session: AsyncSession,
    keyring: Keyring,
    pending: AuthorizationRequest,
    admin: Admin,
    *,
    now: datetime,
    choices: bool = True,
) -> ConsentView:
    """What the page shows to `admin`; the first time, the request is recorded in the school's log.

    `choices=False` leaves out the groups and pupils to choose from (decrypting them is the page's cost).
    """
    if pending.school_id is not None and pending.school_id != admin.school_id:
        raise WrongSchool
    app = await session.get(App, pending.app_id)
    school = await session.get(School, admin.school_id)
    if app is None or school is None:
        raise RequestGone
    developer = await session.get(Developer, app.developer_id)
    grant = await live_grant(session, school.id, app.id)
    requested = parse_scope_string(pending.scopes)
    required = expand(parse_scope_string(app.required_scopes))
    held = grant.scope_set if grant is not None else frozenset()
    if pending.presented_at is None:
        pending.presented_at = now
        await record_event(
            session,
            school_id=school.id,
            event_type=EventType.REQUEST_CREATED,
            actor=events.app(app.client_id),
            details={"app_id": str(app.id), "scopes": format_scopes(requested)},
            occurred_at=now,
        )
    return ConsentView(
        pending=pending,
        app=app,
        developer_name=developer.name if developer is not None else "",
        school=school,
        admin=admin,
        grant=grant,
        already_granted=_scopes(held),
        new_required=_scopes((requested & required) - held),
        new_optional=_scopes(requested - required - held),
        groups=await group_choices(session, keyring, school.id, now.date()) if choices else {},
        students=await student_choices(session, keyring, school.id, now.date()) if choices else [],
        audience=Audience.of(grant),
    )


def _current(record: dict[str, Any], today: date) -> bool:
    end = record.get("end_date")
    return end is None or date.fromisoformat(end) >= today


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that puts "Year 7" before "Year 10"."""
    parts = re.split(r"(\d+)", text)
    return tuple((0, int(part)) if part.isdigit() else (1, part.casefold()) for part in parts)


async def group_choices(
    session: AsyncSession, keyring: Keyring, school_id: uuid.UUID, today: date
) -> dict[str, list[Choice]]:
    choices: dict[str, list[Choice]] = {kind: [] for kind in AUDIENCE_GROUP_TYPES}
    for group in await live_records(session, keyring, school_id, "groups"):
        if group.get("type") in choices and _current(group, today):
            name, code = group["name"], group.get("code")
            label = f"{name} ({code})" if code and code.casefold() not in name.casefold() else name
            choices[group["type"]].append(Choice(group["id"], label))
    for kind in choices:
        choices[kind].sort(key=lambda choice: _natural(choice.label))
    return choices


async def student_choices(
    session: AsyncSession, keyring: Keyring, school_id: uuid.UUID, today: date
) -> list[Choice]:
    students = [s for s in await live_records(session, keyring, school_id, "students") if _current(s, today)]
    students.sort(key=lambda s: (s["last_name"].casefold(), s["first_name"].casefold(), s["id"]))
    return [
        Choice(
            s["id"],
            f"{s['last_name']}, {s['first_name']}"
            + (f" (year {s['year_code']})" if s.get("year_code") else ""),
        )
        for s in students
    ]


def check(view: ConsentView, decision: Decision) -> list[str]:
    """Why this approval cannot be accepted, in words for the admin; empty if it can."""
    problems = list(decision.problems)
    offered = {scope.name for scope in view.new_optional}
    if decision.optional - offered:
        problems.append("The form named a scope this app did not ask for. Reload the page and try again.")
    sensitive_required = {scope.name for scope in view.new_required if scope.sensitive}
    sensitive_optional = {scope.name for scope in view.new_optional if scope.sensitive}
    for name in sort_scopes(sensitive_required - decision.confirmed):
        problems.append(f"Confirm that you agree to share “{CATALOGUE[name].title}”, or deny the request.")
    for name in sort_scopes((decision.optional & sensitive_optional) - decision.confirmed):
        problems.append(f"You ticked “{CATALOGUE[name].title}”: tick its confirmation too, or untick it.")
    for name in sort_scopes((decision.confirmed & sensitive_optional) - decision.optional):
        problems.append(
            f"You confirmed “{CATALOGUE[name].title}” but did not tick it: tick both, or neither."
        )
    approving_sensitive = sensitive_required | (decision.optional & sensitive_optional)
    if approving_sensitive and not view.admin_has_totp:
        problems.append(
            "Sensitive data can only be shared by an admin who signs in with an authenticator app. "
            "Set one up on your account page first."
        )
    if decision.audience_kind not in ("school", "groups"):
        problems.append("Choose who the app may see: the whole school or chosen groups.")
    groups = {choice.id for kind in view.groups.values() for choice in kind}
    if decision.audience_kind == "groups" and not decision.groups:
        problems.append("Choose at least one group, or share the whole school.")
    if set(decision.groups) - groups:
        problems.append("A chosen group no longer exists. Reload the page and choose again.")
    if set(decision.exclude) - {choice.id for choice in view.students}:
        problems.append("An excluded pupil is no longer on roll. Reload the page and choose again.")
    if len(decision.groups) > MAX_AUDIENCE_IDS or len(decision.exclude) > MAX_AUDIENCE_IDS:
        problems.append("Too many groups or pupils were chosen.")
    return problems


async def _complete(session: AsyncSession, pending: AuthorizationRequest, now: datetime) -> None:
    """Mark the request answered, once: a second submission (another tab, a replay) is refused."""
    done = await session.execute(
        update(AuthorizationRequest)
        .where(AuthorizationRequest.id == pending.id, AuthorizationRequest.completed_at.is_(None))
        .values(completed_at=now)
        .execution_options(synchronize_session=False)
    )
    if not getattr(done, "rowcount", 0):
        raise RequestGone


async def approve(
    session: AsyncSession, view: ConsentView, decision: Decision, *, issuer: str, now: datetime
) -> str:
    """Create or widen the grant, record it, and return where to send the browser (with a code).

    Call `check` first: this trusts the decision.
    """
    await _complete(session, view.pending, now)
    added = {scope.name for scope in view.new_required} | decision.optional
    audience = Audience(
        tuple(decision.groups) if decision.audience_kind == "groups" else None, decision.exclude
    )
    grant = await _widen(session, view, expand(added), audience, now)
    for scope in sort_scopes(added):
        if CATALOGUE[scope].sensitive:
            await session.merge(
                SensitiveApproval(grant_id=grant.id, scope=scope, admin_id=view.admin.id, approved_at=now)
            )
    await record_event(
        session,
        school_id=view.school.id,
        event_type=EventType.GRANT_APPROVED,
        actor=events.admin(view.admin.id),
        details={
            "grant_id": str(grant.id),
            "app_id": str(view.app.id),
            "scopes_added": format_scopes(added),
            "scopes": grant.scopes,
            "sensitive_approved": format_scopes(s for s in added if CATALOGUE[s].sensitive),
            "audience": audience.summary(),
            "incremental": view.grant is not None,
        },
        occurred_at=now,
    )
    code = await issuance.issue_code(
        session,
        app=view.app,
        grant=grant,
        redirect_uri=view.pending.redirect_uri,
        code_challenge=view.pending.code_challenge,
        scopes=parse_scope_string(view.pending.scopes) & grant.scope_set,
        now=now,
    )
    return redirect_location(
        view.pending.redirect_uri, {"code": code, "state": view.pending.state}, issuer=issuer
    )


async def _widen(
    session: AsyncSession, view: ConsentView, added: frozenset[str], audience: Audience, now: datetime
) -> Grant:
    """The live grant with `added` scopes and the new audience, or a new grant if there is none.

    Two admins approving at once: the partial unique index lets one insert win; the other widens it.
    """
    grant = await live_grant(session, view.school.id, view.app.id)
    if grant is None:
        try:
            async with session.begin_nested():
                grant = Grant(
                    school_id=view.school.id,
                    app_id=view.app.id,
                    scopes=format_scopes(added),
                    approved_by=view.admin.id,
                )
                grant.audience = audience.stored()
                session.add(grant)
            return grant
        except IntegrityError:
            grant = await live_grant(session, view.school.id, view.app.id)
            if grant is None:
                raise
    grant.scopes = format_scopes(grant.scope_set | added)
    grant.audience = audience.stored()
    grant.approved_by = view.admin.id
    grant.updated_at = now
    await session.flush()
    return grant


async def deny(session: AsyncSession, view: ConsentView, *, issuer: str, now: datetime) -> str:
    """End the request, record the refusal, and return the app's redirect with `access_denied`."""
    await _complete(session, view.pending, now)
    await record_event(
        session,
        school_id=view.school.id,
        event_type=EventType.REQUEST_DENIED,
        actor=events.admin(view.admin.id),
        details={"app_id": str(view.app.id), "scopes": view.pending.scopes},
        occurred_at=now,
    )
    return denied_location(view.pending, issuer=issuer, description="The school declined the request.")


async def refuse_for_school(
    session: AsyncSession, pending: AuthorizationRequest, *, issuer: str, now: datetime
) -> str:
    """The admin signed in is not an admin of the school the app asked for: end the request."""
    await _complete(session, pending, now)
    return denied_location(
        pending, issuer=issuer, description="The signed-in admin does not administer the requested school."
    )


def denied_location(pending: AuthorizationRequest, *, issuer: str, description: str) -> str:
    return redirect_location(
        pending.redirect_uri,
        {"error": "access_denied", "error_description": description, "state": pending.state},
        issuer=issuer,
    )
