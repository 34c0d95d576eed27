"""The rules an app registration obeys (SPEC §3.1): pure, values in, normalised values or `InvalidInput` out.

Every bad field is reported at once, each by its JSON pointer (`#/redirect_uris/1`). Redirect URIs are
stored exactly as given, because the authorize endpoint compares them by exact string (RFC 6749 §3.1.2,
OAuth 2.1 §4.1.1): no normalisation here would survive that comparison. Every URL's host must be a real
host (`gateway.hosts.parse_authority`: an IDNA 2008 name in ASCII, an IPv4 address or a bracketed IPv6
address), so nothing but a host can reach the consent page's `Content-Security-Policy`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final
from urllib.parse import SplitResult, urlsplit

from gateway.apps.models import (
    DESCRIPTION_MAX_LENGTH,
    MAX_REDIRECT_URIS,
    NAME_MAX_LENGTH,
    URL_MAX_LENGTH,
    AuthMethod,
)
from gateway.errors import InvalidInput, field_error
from gateway.hosts import BadAuthority, is_loopback_host, parse_authority
from gateway.scopes import ALWAYS_GRANTED, ScopeError, expand, format_scopes, parse_scope_string

# RFC 3986 characters; anything else (spaces, controls, backslashes, non-ASCII) must be percent-encoded.
_URI_CHARACTERS: Final = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_EXCEPT_NEWLINES: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

EDITABLE_FIELDS: Final = (
    "name",
    "description",
    "redirect_uris",
    "required_scopes",
    "optional_scopes",
    "token_endpoint_auth_method",
    "privacy_policy_url",
    "support_url",
    "webhook_url",
)


@dataclass(frozen=True, slots=True)
class AppDraft:
    """An app's editable fields, as received (before `check`) or normalised (after)."""

    name: str
    description: str
    redirect_uris: tuple[str, ...]
    required_scopes: str
    optional_scopes: str
    token_endpoint_auth_method: AuthMethod
    privacy_policy_url: str
    support_url: str
    webhook_url: str | None

    def merged(self, changes: Mapping[str, Any]) -> AppDraft:
        """This draft with some fields replaced (a PATCH); `None` stands for null."""
        unknown = set(changes) - set(EDITABLE_FIELDS)
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")
        values = dict(changes)
        if values.get("redirect_uris") is not None:
            values["redirect_uris"] = tuple(values["redirect_uris"])
        return replace(self, **values)


def _split(url: str) -> tuple[SplitResult | None, str | None]:
    """The URL's parts, or why it cannot be used as an absolute URL at all."""
    if not url:
        return None, "must not be empty"
    if len(url) > URL_MAX_LENGTH:
        return None, f"must be at most {URL_MAX_LENGTH} characters"
    if not _URI_CHARACTERS.fullmatch(url):
        return None, "must be an ASCII URL without spaces (percent-encode other characters, punycode hosts)"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError:
        return None, "is not a valid URL"
    if not parts.scheme or not parts.netloc or not parts.hostname:
        return None, "must be an absolute URL with a host"
    if "@" in parts.netloc:
        return None, "must not contain user information (`user@`)"
    try:
        parse_authority(parts.netloc)
    except BadAuthority as bad:  # a fixed sentence, never the input
        return None, str(bad)
    return parts, None


def web_url_problem(url: str, *, loopback_http: bool) -> str | None:
    """Why `url` is not an acceptable https URL (or http on a loopback host, if allowed), or None."""
    parts, problem = _split(url)
    if parts is None:
        return problem
    scheme = parts.scheme.lower()
    if scheme == "https":
        return None
    if scheme == "http" and loopback_http:
        return None if is_loopback_host(parts.hostname) else "http is allowed only on a loopback host"
    return "must be an https URL, or http on a loopback host" if loopback_http else "must be an https URL"


def redirect_uri_problem(uri: str) -> str | None:
    """Why `uri` cannot be registered as a redirect URI, or None (SPEC §3.1; RFC 6749 §3.1.2)."""
    if "*" in uri:
        return "must not contain wildcards (`*`): register each URI exactly"
    if "#" in uri:
        return "must not contain a fragment (`#`)"
    return web_url_problem(uri, loopback_http=True)


def redirect_origin(uri: str) -> str | None:
    """`scheme://host[:port]` of `uri` if it passes every rule of `redirect_uri_problem` today, else None.

    For the consent page's `form-action`: asked again at render time, so a URI stored under older rules
    can never add anything to that policy but a checked origin.
    """
    if redirect_uri_problem(uri) is not None:
        return None
    parts = urlsplit(uri)
    return f"{parts.scheme.lower()}://{parse_authority(parts.netloc)}"


def _text_problem(value: str, *, maximum: int, minimum: int, allow_newlines: bool) -> str | None:
    if not minimum <= len(value) <= maximum:
        return f"must be {minimum} to {maximum} characters"
    control = _CONTROL_EXCEPT_NEWLINES if allow_newlines else _CONTROL
    if control.search(value):
        return "must not contain control characters"
    return None


def _scope_set(value: str, pointer: str, errors: list[dict[str, str]]) -> frozenset[str] | None:
    try:
        return parse_scope_string(value)
    except ScopeError as error:  # the message quotes at most a few names, made safe to echo
        errors.append(field_error(str(error), pointer=pointer))
        return None


def check(draft: AppDraft, *, webhook_loopback_http: bool = False) -> AppDraft:
    """The draft normalised (name trimmed, scopes in canonical order), or `InvalidInput` naming bad fields.

    Scope rules: every name must be in the catalogue, once; optional scopes must not already be granted
    by the required ones, listed or implied (SPEC §2) — that includes `school`, which every grant carries:
    it may be listed in `required_scopes` or left out, but is never optional.
    """
    errors: list[dict[str, str]] = []
    name = draft.name.strip() if isinstance(draft.name, str) else draft.name
    for field, value, maximum, minimum, newlines in (
        ("name", name, NAME_MAX_LENGTH, 1, False),
        ("description", draft.description, DESCRIPTION_MAX_LENGTH, 0, True),
    ):
        problem = _text_problem(value, maximum=maximum, minimum=minimum, allow_newlines=newlines)
        if problem is not None:
            errors.append(field_error(problem, pointer=f"#/{field}"))

    uris = draft.redirect_uris
    if not 1 <= len(uris) <= MAX_REDIRECT_URIS:
        errors.append(field_error(f"give 1 to {MAX_REDIRECT_URIS} redirect URIs", pointer="#/redirect_uris"))
    seen: set[str] = set()
    for index, uri in enumerate(uris):
        problem = redirect_uri_problem(uri)
        if problem is None and uri in seen:
            problem = "is listed twice"
        seen.add(uri)
        if problem is not None:
            errors.append(field_error(problem, pointer=f"#/redirect_uris/{index}"))

    for field, url in (("privacy_policy_url", draft.privacy_policy_url), ("support_url", draft.support_url)):
        problem = web_url_problem(url, loopback_http=True)
        if problem is not None:
            errors.append(field_error(problem, pointer=f"#/{field}"))
    if draft.webhook_url is not None:
        problem = web_url_problem(draft.webhook_url, loopback_http=webhook_loopback_http)
        if problem is None and "#" in draft.webhook_url:
            problem = "must not contain a fragment (`#`)"
        if problem is not None:
            errors.append(field_error(problem, pointer="#/webhook_url"))

    required = _scope_set(draft.required_scopes, "#/required_scopes", errors)
    optional = _scope_set(draft.optional_scopes, "#/optional_scopes", errors)
    if required is not None and optional is not None:
        listed = required & optional
        implied = (expand(required) & optional) - listed
        if listed:
            errors.append(
                field_error("also in required_scopes: " + format_scopes(listed), pointer="#/optional_scopes")
            )
        if implied & ALWAYS_GRANTED:
            errors.append(
                field_error("`school` is always granted: it cannot be optional", pointer="#/optional_scopes")
            )
        if implied - ALWAYS_GRANTED:
            errors.append(
                field_error(
                    "already implied by required_scopes: " + format_scopes(implied - ALWAYS_GRANTED),
                    pointer="#/optional_scopes",
                )
            )

    if errors:
        raise InvalidInput("The app has invalid fields.", errors=errors)
    assert required is not None
    assert optional is not None
    return replace(
        draft,
        name=name,
        required_scopes=format_scopes(required),
        optional_scopes=format_scopes(optional),
    )
