"""The shape of an email address we are willing to put in a header: pure, no I/O, no DNS."""

from __future__ import annotations

import re

MAX_ADDRESS_LENGTH = 254  # RFC 5321 §4.5.3.1.3 (a path of 256 octets, less the angle brackets)
MAX_LOCAL_PART_LENGTH = 64

# RFC 5322 dot-atom local part; ASCII only (no SMTPUTF8), so every relay accepts it.
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def address_problem(address: str) -> str | None:
    """Why `address` is not a plain `local@domain` address, or None. Never repeats the address."""
    if any(ord(char) < 32 or ord(char) == 127 for char in address):
        return "must not contain control characters (CR, LF …)"
    if len(address) > MAX_ADDRESS_LENGTH:
        return f"must be at most {MAX_ADDRESS_LENGTH} characters"
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return "must look like name@example.org"
    if len(local) > MAX_LOCAL_PART_LENGTH or not _LOCAL_PART.fullmatch(local):
        return "has a name part (before @) that is not a plain ASCII dot-atom"
    labels = domain.split(".")
    if not all(_LABEL.fullmatch(label) for label in labels) or labels[-1].isdigit():
        return "has a domain (after @) that is not a valid host name"
    return None
