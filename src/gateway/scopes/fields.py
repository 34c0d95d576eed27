"""From granted scopes to the fields an app may see (SPEC §2, §5 "Read data").

The data API projects every record to `allowed_fields(effective_scopes)[resource]`; a resource missing
from the mapping is not granted at all. Sensitive fields never leave without their scope because each
(resource, field) pair belongs to exactly one scope of the catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Final

from gateway.scopes.catalogue import CATALOGUE, RESOURCES
from gateway.scopes.parsing import expand

__all__ = ["allowed_fields", "scopes_for_field", "sensitive_scopes"]

_EMPTY: Final[frozenset[str]] = frozenset()

_FIELD_OWNERS: Final[Mapping[tuple[str, str], frozenset[str]]] = MappingProxyType(
    {
        (resource, name): frozenset(
            scope.name for scope in CATALOGUE.values() if name in scope.fields.get(resource, _EMPTY)
        )
        for scope in CATALOGUE.values()
        for resource, names in scope.fields.items()
        for name in names
    }
)


def allowed_fields(scopes: Iterable[str]) -> Mapping[str, frozenset[str]]:
    """Resource -> the fields the scopes unlock, after `expand` (so `school` data is always present).

    Only resources with at least one unlocked field appear, in catalogue order. Raises `UnknownScope`
    for names not in the catalogue.
    """
    return _allowed_fields_expanded(expand(scopes))


# Bounded: the keys are expanded subsets of the catalogue chosen by clients.
@lru_cache(maxsize=4096)
def _allowed_fields_expanded(scopes: frozenset[str]) -> Mapping[str, frozenset[str]]:
    unlocked: dict[str, set[str]] = {resource: set() for resource in RESOURCES}
    for name in scopes:
        for resource, names in CATALOGUE[name].fields.items():
            unlocked[resource] |= names
    return MappingProxyType({resource: frozenset(names) for resource, names in unlocked.items() if names})


def sensitive_scopes(scopes: Iterable[str]) -> frozenset[str]:
    """The sensitive scopes among the given ones and those they imply; `UnknownScope` if unknown."""
    return frozenset(name for name in expand(scopes) if CATALOGUE[name].sensitive)


def scopes_for_field(resource: str, field: str) -> frozenset[str]:
    """The scopes that list `field` of `resource` directly; empty when no scope unlocks it.

    The catalogue gives every pair exactly one owner, so a known pair yields one name. Scopes that merely
    imply the owner (for example `students.fsm` implying `students.basic`) are not included.
    """
    return _FIELD_OWNERS.get((resource, field), _EMPTY)
