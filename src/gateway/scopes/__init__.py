"""The scope catalogue, scope parsing and implication, and scope -> allowed fields (SPEC §2).

Pure and free of I/O; imports nothing else from `gateway`.
"""

from gateway.scopes.catalogue import ALWAYS_GRANTED, CATALOGUE, RESOURCES, SCOPE_NAMES, SCOPES, Scope
from gateway.scopes.fields import allowed_fields, scopes_for_field, sensitive_scopes
from gateway.scopes.parsing import (
    DuplicateScope,
    MalformedScope,
    ScopeError,
    UnknownScope,
    effective_scopes,
    expand,
    format_scopes,
    parse_scope_string,
    sort_scopes,
)

__all__ = [
    "ALWAYS_GRANTED",
    "CATALOGUE",
    "RESOURCES",
    "SCOPES",
    "SCOPE_NAMES",
    "DuplicateScope",
    "MalformedScope",
    "Scope",
    "ScopeError",
    "UnknownScope",
    "allowed_fields",
    "effective_scopes",
    "expand",
    "format_scopes",
    "parse_scope_string",
    "scopes_for_field",
    "sensitive_scopes",
    "sort_scopes",
]
