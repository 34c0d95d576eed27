"""Scope strings in and out (RFC 6749 §3.3) and scope implication (SPEC §2).

`parse_scope_string` turns a request's `scope` parameter into a set of known scope names, or raises a
`ScopeError` naming what was wrong. `expand` adds the implied and always-granted scopes; `format_scopes`
writes a set back out in canonical (catalogue) order, as access tokens and grants carry it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Final

from gateway.scopes.catalogue import ALWAYS_GRANTED, CATALOGUE, SCOPE_NAMES

__all__ = [
    "DuplicateScope",
    "MalformedScope",
    "ScopeError",
    "UnknownScope",
    "expand",
    "format_scopes",
    "parse_scope_string",
    "sort_scopes",
]

# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ); tokens are separated by single spaces.
_SCOPE_TOKEN: Final = re.compile(r"[\x21\x23-\x5B\x5D-\x7E]+")

# Error messages quote offending names back to the client, so keep them short.
_MAX_NAMES_IN_MESSAGE: Final = 5
_MAX_NAME_LENGTH_IN_MESSAGE: Final = 40

_POSITION: Final = {name: index for index, name in enumerate(SCOPE_NAMES)}


class ScopeError(ValueError):
    """A scope string or set that cannot be accepted. `names` holds the offending tokens.

    The message is safe to send as an RFC 6749 §5.2 `error_description`: printable ASCII without '"'
    or '\\', quoting at most a few names, each cut short and with any other character shown as '?'.
    """

    reason: str = "invalid scope"

    def __init__(self, names: Iterable[str]) -> None:
        self.names: tuple[str, ...] = tuple(names)
        super().__init__(self._message())

    def _message(self) -> str:
        shown = [_shorten(name) for name in self.names[:_MAX_NAMES_IN_MESSAGE]]
        more = len(self.names) - len(shown)
        listed = ", ".join(shown) + (f" and {more} more" if more else "")
        return f"{self.reason}: {listed}"


class UnknownScope(ScopeError):
    """One or more scope names are not in the catalogue."""

    reason = "unknown scope"


class DuplicateScope(ScopeError):
    """The same scope name appears more than once in a scope string."""

    reason = "duplicated scope"


class MalformedScope(ScopeError):
    """The scope string is not space-separated scope-tokens (RFC 6749 §3.3).

    The offending tokens may be empty (a leading, trailing or doubled space) or hold characters outside
    the scope-token set, so the message counts them instead of quoting them.
    """

    reason = "malformed scope"

    def _message(self) -> str:
        count = len(self.names)
        noun = "token" if count == 1 else "tokens"
        return (
            f"{self.reason}: {count} bad {noun}; RFC 6749 section 3.3 wants names of printable ASCII "
            "separated by single spaces"
        )


def _shorten(name: str) -> str:
    """A name fit to quote: scope-token characters only (others become '?'), and not too long."""
    if not name:
        return "(empty)"
    safe = "".join(char if _SCOPE_TOKEN.fullmatch(char) else "?" for char in name)
    if len(safe) <= _MAX_NAME_LENGTH_IN_MESSAGE:
        return safe
    return safe[: _MAX_NAME_LENGTH_IN_MESSAGE - 3] + "..."


def _known_set(scopes: Iterable[str]) -> frozenset[str]:
    """The names as a set, refusing a bare string (whose iteration would give single characters)."""
    if isinstance(scopes, str):
        raise TypeError("expected a collection of scope names; parse a scope string with parse_scope_string")
    given = frozenset(scopes)
    unknown = [name for name in given if name not in CATALOGUE]
    if unknown:
        raise UnknownScope(sorted(unknown))
    return given


def parse_scope_string(value: str) -> frozenset[str]:
    """Parse an RFC 6749 §3.3 scope string into a set of known scope names.

    The empty string gives the empty set; whether an empty request is acceptable is for the caller.
    Raises `MalformedScope` for empty tokens or characters outside the scope-token set,
    `DuplicateScope` for a name given twice and `UnknownScope` for a name not in the catalogue, checked
    in that order; each error carries every offending token, in order of appearance.
    """
    if value == "":
        return frozenset()
    tokens = value.split(" ")
    malformed = [token for token in tokens if not _SCOPE_TOKEN.fullmatch(token)]
    if malformed:
        raise MalformedScope(malformed)
    seen: set[str] = set()
    duplicates: dict[str, None] = {}
    for token in tokens:
        if token in seen:
            duplicates[token] = None
        seen.add(token)
    if duplicates:
        raise DuplicateScope(duplicates)
    unknown = [token for token in tokens if token not in CATALOGUE]
    if unknown:
        raise UnknownScope(unknown)
    return frozenset(tokens)


def expand(scopes: Iterable[str]) -> frozenset[str]:
    """Add the implied scopes and the always-granted ones (SPEC §2); `UnknownScope` for unknown names.

    Takes a collection of names, never a scope string (TypeError): use `parse_scope_string` for those.

    Idempotent, monotone and extensive: `expand(expand(s)) == expand(s)`, `s <= t` implies
    `expand(s) <= expand(t)`, and `s <= expand(s)`.
    """
    return _expand_known(_known_set(scopes))


# Bounded: the keys are subsets of the catalogue chosen by clients, of which there are 2**25.
@lru_cache(maxsize=4096)
def _expand_known(scopes: frozenset[str]) -> frozenset[str]:
    result = set(scopes) | ALWAYS_GRANTED
    pending = list(result)
    while pending:
        for implied in CATALOGUE[pending.pop()].implies:
            if implied not in result:
                result.add(implied)
                pending.append(implied)
    return frozenset(result)


def sort_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """The given scope names, without repeats, in canonical (catalogue) order; `UnknownScope` if unknown."""
    return tuple(sorted(_known_set(scopes), key=_POSITION.__getitem__))


def format_scopes(scopes: Iterable[str]) -> str:
    """The RFC 6749 §3.3 scope string for a set of scope names, in canonical order (no expansion).

    `parse_scope_string(format_scopes(s)) == frozenset(s)` for any set of known names.
    """
    return " ".join(sort_scopes(scopes))


def effective_scopes(asked: Iterable[str], granted: Iterable[str]) -> frozenset[str]:
    """What a token (or code, or refresh) may use now: the scopes it carries ∩ those the grant holds now.

    The one rule behind "a narrowed grant narrows every token already issued" (SPEC §3.5): the bearer
    check, introspection, code exchange, refresh and consent all apply it.
    """
    return frozenset(asked) & frozenset(granted)
