"""The authorisation log in plain English for a school's admins (issue 13, item 3).

The log stores ids only (`audit.details`); this turns an event into a sentence with the names the school
knows: its admins (by email address: admins have no other name), its apps, its groups, its API keys. Every
name is looked up within the school, so an id from another school's world never resolves to anything.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.accounts.models import Admin
from gateway.apps.models import App
from gateway.audit.models import AuditEvent
from gateway.consent.models import Grant
from gateway.manage.models import SchoolApiKey
from gateway.scopes import CATALOGUE
from gateway.scopes.fields import scopes_for_field

# What each event type is called in the filter and, where no sentence of its own fits, in the log.
EVENT_LABELS: Final[Mapping[str, str]] = {
    "request.created": "An app asked for access",
    "request.denied": "A request was declined",
    "grant.approved": "Access allowed",
    "grant.narrowed": "Access narrowed",
    "grant.revoked": "Access revoked",
    "app.disconnected": "An app disconnected itself",
    "app.deleted": "An app was deleted by its developer",
    "token_family.revoked": "An app's tokens were revoked",
    "data.accessed": "Data read",
    "admin.login": "An admin signed in",
    "admin.login_failed": "A sign-in failed",
    "admin.locked_out": "An admin was locked out",
    "admin.password_reset": "An admin reset their password",
    "admin.totp_enrolled": "An admin set up an authenticator app",
    "admin.added": "An admin was added",
    "admin.disabled": "An admin was disabled",
    "api_key.created": "An API key was created",
    "api_key.revoked": "An API key was revoked",
    "connector_key.created": "A connector key was created",
    "connector_key.revoked": "A connector key was revoked",
    "data.exported": "The school's data was exported",
    "export.downloaded": "An export of the school's data was downloaded",
    "data.purged": "The school's data was deleted",
    "keys.rotated": "Encryption keys were rotated",
    "backup.created": "The gateway's operator made a backup",
    "connector.deleted": "The MIS connector was deleted",
    "deletion.requested": "Deletion of the school's data was requested",
    "deletion.cancelled": "A deletion request was cancelled",
    "retention.warned": "Admins were warned of deletion after a year without activity",
    "support.requested": "The gateway's support staff asked to see the school's data",
    "support.approved": "Support access was allowed",
    "support.declined": "Support access was declined",
    "support.shortened": "Support access was shortened",
    "support.withdrawn": "Support access was withdrawn",
    "support.read": "Support staff read the school's data",
    "admin.break_glass": "An admin was added without the school's leave (break glass)",
    "incident.notified": "The school was told of an incident that may have affected its data",
    "school.created": "The school was set up",
    "school.settings_changed": "The school's settings were changed",
    "audit.exported": "The authorisation log was exported",
}
SHOWN_SCOPES: Final = 8
SHOWN_GROUPS: Final = 6


def event_label(event_type: str) -> str:
    return EVENT_LABELS.get(event_type) or event_type.replace("_", " ").replace(".", ": ").capitalize()


def scope_titles(names: Iterable[str]) -> str:
    """`Pupils: basic details, Pupils: special educational needs` in catalogue order."""
    known = [CATALOGUE[name] for name in CATALOGUE if name in set(names)]
    titles = [scope.title for scope in known]
    more = len(titles) - SHOWN_SCOPES
    return ", ".join(titles[:SHOWN_SCOPES]) + (f" and {more} more" if more > 0 else "")


def _scopes(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


@dataclass
class Names:
    """Names the school's admins may read, by the ids the log stores."""

    admins: dict[str, str] = field(default_factory=dict)  # admin id -> email address
    apps: dict[str, str] = field(default_factory=dict)  # app id -> name
    clients: dict[str, str] = field(default_factory=dict)  # client id -> app name
    api_keys: dict[str, str] = field(default_factory=dict)  # prefix -> key name
    groups: dict[str, str] = field(default_factory=dict)  # MIS group id -> name

    def app(self, app_id: Any) -> str:
        return self.apps.get(str(app_id), "an app since deleted")

    def actor(self, actor: str) -> str:
        kind, _, ident = actor.partition(":")
        if actor == "operator":
            return "The gateway's operator"
        if actor == "system":
            return "The gateway"
        if kind == "admin":
            return self.admins.get(ident, "A former admin")
        if kind == "app":
            return self.clients.get(ident, "An app since deleted")
        if kind == "api_key":
            name = self.api_keys.get(ident)
            return f"The school's API key “{name}”" if name else "A school API key since removed"
        if kind == "connector":
            return "The school's MIS connector"
        if kind == "developer":
            return "The app's developer"
        return "Someone unknown"

    def audience(self, summary: Any) -> str:
        """ "for the whole school" or "for pupils in Year 7, Year 8", and pupils hidden."""
        if not isinstance(summary, dict):
            return ""
        if summary.get("kind") == "school":
            text = "for the whole school"
        else:
            ids = summary.get("group_ids")
            if isinstance(ids, list) and ids:
                labels = sorted(self.groups.get(str(group), "a group no longer in the MIS") for group in ids)
                more = len(labels) - SHOWN_GROUPS
                text = "for pupils in " + ", ".join(labels[:SHOWN_GROUPS])
                text += f" and {more} more groups" if more > 0 else ""
            else:
                count = summary.get("group_count")
                text = f"for pupils in {count} groups" if isinstance(count, int) else "for chosen groups"
        hidden = summary.get("excluded_count")
        if isinstance(hidden, int) and hidden > 0:
            text += f", except {hidden} pupil{'s' if hidden != 1 else ''} hidden from the app"
        return text


def describe(event: AuditEvent, names: Names) -> str:
    """One sentence for one event."""
    try:
        details = json.loads(event.details)
    except ValueError:
        details = {}
    if not isinstance(details, dict):
        details = {}
    who = names.actor(event.actor)
    app = names.app(details.get("app_id"))
    kind = event.event_type
    if kind == "grant.approved":
        verb = "also allowed" if details.get("incremental") else "allowed"
        added = scope_titles(_scopes(details.get("scopes_added")))
        sentence = f"{who} {verb} {app} to see {added}" if added else f"{who} changed who {app} can see"
        audience = names.audience(details.get("audience"))
        return f"{sentence} {audience}." if audience else f"{sentence}."
    if kind == "grant.narrowed":
        removed = scope_titles(_scopes(details.get("scopes_removed")))
        parts = [f"no longer {removed}"] if removed else []
        audience = names.audience(details.get("audience"))
        if audience:
            parts.append(f"now {audience}")
        return f"{who} narrowed what {app} can see: {'; '.join(parts) or 'no change'}."
    if kind == "grant.revoked":
        return f"{who} revoked {app}'s access to the school's data."
    if kind == "app.disconnected":
        return f"{app} disconnected itself from the school: it can no longer read the school's data."
    if kind == "app.deleted":
        name = names.clients.get(str(details.get("client_id")), "An app")
        return f"{name} was deleted by its developer; its access to the school ended."
    if kind == "request.created":
        asked = scope_titles(_scopes(details.get("scopes")))
        return f"{app} asked to see {asked}." if asked else f"{app} asked for access."
    if kind == "request.denied":
        return f"{who} declined {app}'s request."
    if kind == "token_family.revoked":
        return (
            f"{who} revoked a set of {app}'s tokens because a refresh token was used twice "
            "(a sign it may have been copied)."
        )
    return f"By {who[0].lower() + who[1:] if who.startswith(('The ', 'A ')) else who}."


def _named_ids(events: Iterable[AuditEvent]) -> tuple[set[uuid.UUID], set[str]]:
    """The app ids and client ids the events name (in `details` or as the actor)."""
    app_ids: set[uuid.UUID] = set()
    client_ids: set[str] = set()
    for event in events:
        if event.actor.startswith("app:"):
            client_ids.add(event.actor[4:])
        try:
            details = json.loads(event.details)
        except ValueError:
            continue
        if isinstance(details, dict):
            with contextlib.suppress(ValueError):
                app_ids.add(uuid.UUID(str(details.get("app_id"))))
            if isinstance(details.get("client_id"), str):
                client_ids.add(details["client_id"])
    return app_ids, client_ids


async def school_names(
    session: AsyncSession,
    school_id: uuid.UUID,
    events: Iterable[AuditEvent] = (),
    groups: Mapping[str, str] | None = None,
) -> Names:
    """The school's admins and API keys, the apps it has or had grants with, and the apps its events name
    (an app that only asked is named in the school's own log)."""
    events = list(events)
    admins = await session.execute(select(Admin.id, Admin.email).where(Admin.school_id == school_id))
    granted = select(Grant.app_id).where(Grant.school_id == school_id)
    app_ids, client_ids = _named_ids(events)
    wanted = or_(App.id.in_(granted), App.id.in_(app_ids), App.client_id.in_(client_ids))
    apps = await session.execute(select(App.id, App.client_id, App.name).where(wanted))
    keys = await session.execute(
        select(SchoolApiKey.prefix, SchoolApiKey.name).where(SchoolApiKey.school_id == school_id)
    )
    names = Names(groups=dict(groups or {}))
    names.admins = {str(admin_id): email for admin_id, email in admins.all()}
    for app_id, client_id, name in apps.all():
        names.apps[str(app_id)] = name
        names.clients[client_id] = name
    names.api_keys = dict(keys.all())
    return names


async def granted_apps(session: AsyncSession, school_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    """Every app the school has or had a grant with, by name: the log page's app filter."""
    rows = await session.execute(
        select(App.id, App.name)
        .where(App.id.in_(select(Grant.app_id).where(Grant.school_id == school_id)))
        .order_by(App.name, App.id)
    )
    return [(app_id, name) for app_id, name in rows.all()]


# --- Data accessed ----------------------------------------------------------------------------------------

RESOURCE_TITLES: Final[Mapping[str, str]] = {
    "school": "The school's details",
    "academic_years": "Academic years",
    "subjects": "Subjects",
    "groups": "Groups and classes",
    "students": "Pupils",
    "contacts": "Parents and other contacts",
    "student_contacts": "Which contacts belong to which pupils",
    "staff": "Staff",
    "attendance_sessions": "Attendance marks",
    "attendance_summaries": "Attendance summaries",
    "assessments": "Assessments",
    "results": "Assessment results",
    "exclusions": "Exclusions",
    "changes": "Changes feed (nothing new in these responses)",
}
_WORDS: Final[Mapping[str, str]] = {
    "id": "id",
    "mis": "MIS",
    "upn": "UPN",
    "uln": "ULN",
    "pan": "admission number",
    "dob": "date of birth",
    "urn": "URN",
    "la": "local authority",
    "fsm": "FSM",
    "fsm6": "FSM in the last 6 years",
    "pp": "pupil premium",
    "sen": "SEN",
    "nhs": "NHS",
    "eal": "English as an additional language",
    "ids": "ids",
}


def resource_title(resource: str) -> str:
    return RESOURCE_TITLES.get(resource, resource.replace("_", " ").capitalize())


def field_words(name: str) -> str:
    """`first_language_code` -> `first language code`, `upn` -> `UPN`, `is_fsm6` -> `is FSM in the …`."""
    return " ".join(_WORDS.get(word, word) for word in name.split("_"))


def fields_by_scope(resource: str, fields: Iterable[str]) -> list[tuple[str, str, bool]]:
    """The fields sent, in plain words, under the title of the scope that unlocks them (catalogue order):
    (scope title, fields, sensitive). Fields no scope lists (should there be any) come last."""
    owners: dict[str, list[str]] = {}
    for name in sorted(fields):
        scopes = scopes_for_field(resource, name)
        owner = next((scope for scope in CATALOGUE if scope in scopes), "")
        owners.setdefault(owner, []).append(field_words(name))
    ordered = [scope for scope in CATALOGUE if scope in owners] + ([""] if "" in owners else [])
    return [
        (
            CATALOGUE[scope].title if scope else "Other fields",
            ", ".join(owners[scope]),
            bool(scope) and CATALOGUE[scope].sensitive,
        )
        for scope in ordered
    ]
