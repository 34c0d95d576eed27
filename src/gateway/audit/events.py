"""What the authorisation log records (SPEC §4): a closed set of event types, and who did it.

Services record events at these named points, never routers (STYLE, habit 6). Adding an event type is a
code change reviewed like any other; the column holds the value, so renaming one is a data migration.
"""

from __future__ import annotations

import re
import uuid
from enum import StrEnum


class EventType(StrEnum):
    """Every event of SPEC §4. Values are `subject.verb`, at most 40 characters (the column's width)."""

    REQUEST_CREATED = "request.created"
    REQUEST_DENIED = "request.denied"
    GRANT_APPROVED = "grant.approved"
    GRANT_NARROWED = "grant.narrowed"
    GRANT_REVOKED = "grant.revoked"
    APP_DISCONNECTED = "app.disconnected"
    TOKEN_FAMILY_REVOKED = "token_family.revoked"  # noqa: S105 (a name, not a secret)
    DATA_ACCESSED = "data.accessed"
    ADMIN_LOGIN = "admin.login"
    ADMIN_LOGIN_FAILED = "admin.login_failed"
    ADMIN_LOCKED_OUT = "admin.locked_out"
    ADMIN_PASSWORD_RESET = "admin.password_reset"  # noqa: S105
    ADMIN_TOTP_ENROLLED = "admin.totp_enrolled"
    API_KEY_CREATED = "api_key.created"
    API_KEY_REVOKED = "api_key.revoked"
    EXPORT = "data.exported"
    PURGE = "data.purged"
    KEY_ROTATION = "keys.rotated"  # in every school's chain: `details.key` is `signing` or `master`
    SCHOOL_CREATED = "school.created"
    SCHOOL_SETTINGS_CHANGED = "school.settings_changed"
    ADMIN_ADDED = "admin.added"
    ADMIN_DISABLED = "admin.disabled"
    CONNECTOR_KEY_CREATED = "connector_key.created"
    CONNECTOR_KEY_REVOKED = "connector_key.revoked"
    APP_DELETED = "app.deleted"  # after the `grant.revoked` of each of the app's live grants at the school
    AUDIT_EXPORTED = "audit.exported"  # the school exported this log (`audit.router`); inside the export
    BACKUP_CREATED = "backup.created"  # in every school's chain: the operator copied the whole database
    CONNECTOR_DELETED = "connector.deleted"  # every connector key revoked; the MIS data's purge scheduled
    DELETION_REQUESTED = "deletion.requested"  # the school's data is to be purged (an admin or the operator)
    DELETION_CANCELLED = "deletion.cancelled"  # a deletion request withdrawn before it ran
    INACTIVITY_WARNED = "retention.warned"  # admins told that 12 months without activity end in a purge
    SUPPORT_REQUESTED = "support.requested"  # a named operator asks to see named resources, for some hours
    SUPPORT_APPROVED = "support.approved"  # an admin (with a second factor) allows it until `expires_at`
    SUPPORT_DECLINED = "support.declined"
    SUPPORT_SHORTENED = "support.shortened"  # a live approval made to end sooner
    SUPPORT_WITHDRAWN = "support.withdrawn"  # a live approval ended now
    SUPPORT_READ = "support.read"  # what the operator read under an approval: resource, record ids, fields
    ADMIN_BREAK_GLASS = "admin.break_glass"  # added without leave: none of the admins could sign in
    EXPORT_DOWNLOADED = "export.downloaded"  # a ready export (`data.exported`) handed out, once
    INCIDENT_NOTIFIED = "incident.notified"  # the school was told of an incident that touched its data


# Who acted, as an opaque reference: a kind and an id, never an email address or a person's name.
OPERATOR = "operator"  # the `gateway` CLI on the host
SYSTEM = "system"  # scheduled jobs (retention, key rotation by schedule)
_ACTOR = re.compile(r"(operator|system|(admin|api_key|connector|app|developer):[A-Za-z0-9._-]{1,64})")


def admin(admin_id: uuid.UUID) -> str:
    return f"admin:{admin_id}"


def api_key(prefix: str) -> str:
    return check_actor(f"api_key:{prefix}")


def connector(prefix: str) -> str:
    return check_actor(f"connector:{prefix}")


def app(client_id: str) -> str:
    return check_actor(f"app:{client_id}")


def developer(developer_id: uuid.UUID) -> str:
    return f"developer:{developer_id}"


def check_actor(actor: str) -> str:
    """`actor` if it is `operator`, `system` or `kind:id`; ValueError otherwise (an email cannot pass)."""
    if not _ACTOR.fullmatch(actor):
        raise ValueError("actor must be 'operator', 'system' or 'kind:id' with an opaque id")
    return actor
