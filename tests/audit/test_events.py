"""Event types, actors and details (SPEC §4, §5): a closed set, opaque references, no personal data."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from gateway.audit import events
from gateway.audit.details import FORBIDDEN_KEYS, MAX_DETAILS_BYTES, encode_details
from gateway.audit.events import EventType, check_actor


def test_event_types_cover_spec_section_4() -> None:
    assert {kind.name for kind in EventType} == {
        "REQUEST_CREATED",
        "REQUEST_DENIED",
        "GRANT_APPROVED",
        "GRANT_NARROWED",
        "GRANT_REVOKED",
        "APP_DISCONNECTED",
        "TOKEN_FAMILY_REVOKED",
        "DATA_ACCESSED",
        "ADMIN_LOGIN",
        "ADMIN_LOGIN_FAILED",
        "ADMIN_LOCKED_OUT",
        "ADMIN_PASSWORD_RESET",
        "ADMIN_TOTP_ENROLLED",
        "API_KEY_CREATED",
        "API_KEY_REVOKED",
        "EXPORT",
        "PURGE",
        "KEY_ROTATION",
        "SCHOOL_CREATED",
        "SCHOOL_SETTINGS_CHANGED",
        "ADMIN_ADDED",
        "ADMIN_DISABLED",
        "CONNECTOR_KEY_CREATED",
        "CONNECTOR_KEY_REVOKED",
        "APP_DELETED",
        "AUDIT_EXPORTED",
        "BACKUP_CREATED",
        "CONNECTOR_DELETED",
        "DELETION_REQUESTED",
        "DELETION_CANCELLED",
        "INACTIVITY_WARNED",
        "SUPPORT_REQUESTED",
        "SUPPORT_APPROVED",
        "SUPPORT_DECLINED",
        "SUPPORT_SHORTENED",
        "SUPPORT_WITHDRAWN",
        "SUPPORT_READ",
        "ADMIN_BREAK_GLASS",
        "EXPORT_DOWNLOADED",
        "INCIDENT_NOTIFIED",
    }


@pytest.mark.parametrize("kind", list(EventType))
def test_event_type_values_are_subject_dot_verb_and_fit_the_column(kind: EventType) -> None:
    assert re.fullmatch(r"[a-z_]+\.[a-z_]+", kind.value)
    assert len(kind.value) <= 40


def test_event_type_values_are_unique() -> None:
    assert len({kind.value for kind in EventType}) == len(EventType)


def test_actor_helpers() -> None:
    admin_id = uuid.uuid4()
    assert events.admin(admin_id) == f"admin:{admin_id}"
    assert events.connector("gw_ck_ab12") == "connector:gw_ck_ab12"
    assert events.app("client-123") == "app:client-123"
    assert events.api_key("gw_sk_x9") == "api_key:gw_sk_x9"
    assert check_actor(events.OPERATOR) == "operator"
    assert check_actor(events.SYSTEM) == "system"
    assert len(events.admin(admin_id)) <= 80


@pytest.mark.parametrize(
    "actor",
    [
        "",
        "admin:",
        "jo.bloggs@school.example",
        "admin:jo.bloggs@school.example",
        "Jo Bloggs",
        "admin:Jo Bloggs",
        "teacher:123",
        "app:" + "x" * 65,
        "operator ",
    ],
)
def test_actors_are_opaque_references(actor: str) -> None:
    with pytest.raises(ValueError, match="actor"):
        check_actor(actor)


def test_helpers_refuse_what_is_not_an_id() -> None:
    with pytest.raises(ValueError, match="actor"):
        events.app("someone@example.org")


def test_details_are_canonical_json() -> None:
    grant_id = uuid.uuid4()
    text = encode_details({"scopes": ["students.basic", "school"], "grant_id": grant_id, "count": 3})
    assert text == f'{{"count":3,"grant_id":"{grant_id}","scopes":["students.basic","school"]}}'
    assert encode_details(None) == "{}"
    assert encode_details({}) == "{}"


@pytest.mark.parametrize("key", sorted(FORBIDDEN_KEYS))
def test_details_refuse_keys_that_name_personal_data_or_secrets(key: str) -> None:
    with pytest.raises(ValueError, match="must not hold"):
        encode_details({key: "x"})
    with pytest.raises(ValueError, match="must not hold"):
        encode_details({"nested": [{key.upper(): "x"}]})


@pytest.mark.parametrize(
    "details",
    [{"admin": "jo@school.example"}, {"ids": ["a", "jo@school.example"]}, {"jo@school.example": 1}],
)
def test_details_refuse_email_addresses(details: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="email"):
        encode_details(details)


def test_details_are_small() -> None:
    encode_details({"ids": ["x" * 100] * 30})
    with pytest.raises(ValueError, match=f"at most {MAX_DETAILS_BYTES} bytes"):
        encode_details({"ids": ["x" * 100] * 50})


def test_details_refuse_floats() -> None:
    with pytest.raises(TypeError):
        encode_details({"ratio": 0.5})


def test_ids_counts_and_scope_names_pass() -> None:
    details = {
        "grant_id": str(uuid.uuid4()),
        "client_id": "client-123",
        "scopes": ["students.sen", "students.basic"],
        "audience": {"groups": ["grp-7A"], "excluded_students": 2},
        "records": 250,
        "resource": "students",
        "sensitive_confirmed": True,
    }
    assert json.loads(encode_details(details)) == details
