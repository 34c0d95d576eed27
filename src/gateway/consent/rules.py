"""The consent rules (SPEC §2, §3.3, §3.6), pure: values in, the reasons a change is refused out.

- `check`: what is wrong with an admin's decision on the consent page, in words for the admin. Required
  scopes are approved together or not at all; optional scopes only when ticked; a sensitive scope needs
  its own confirmation, and only an admin with TOTP enrolled may approve one; the audience is the whole
  school or chosen groups of the school, minus pupils on roll.
- `plan_narrowing`: whether a school's change to a grant narrows it (drops optional scopes, shrinks the
  audience), with every reason it does not, each with its JSON pointer. Widening is the app's to ask for
  through the consent page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from gateway.accounts.models import Admin
from gateway.apps.models import App
from gateway.consent.audience import Audience
from gateway.consent.choices import Choice
from gateway.consent.models import AuthorizationRequest, Grant
from gateway.errors import InvalidInput, field_error
from gateway.schools.models import School
from gateway.scopes import ALWAYS_GRANTED, CATALOGUE, Scope, expand, parse_scope_string, sort_scopes

MAX_AUDIENCE_IDS: Final = 2000
WIDENING: Final = "Widening a grant needs the app to ask again, through the consent page."


def required_scopes(app: App) -> frozenset[str]:
    """The app's registered required scopes with what they imply: they go only with the whole grant."""
    return expand(parse_scope_string(app.required_scopes))


# --- The consent page ------------------------------------------------------------------------------------


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


# --- Narrowing a grant -----------------------------------------------------------------------------------


class NarrowingRefused(InvalidInput):
    """The request would widen the grant, or asks for something that cannot be taken away alone."""

    slug, title = "narrowing-refused", "Not a narrowing"


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
    if not problems and not removed and audience == current:
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
