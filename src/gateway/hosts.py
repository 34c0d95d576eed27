"""What a URL's host is: pure, no I/O, no DNS.

Settings (the issuer), the SMTP URL and app redirect URIs all ask whether a host is loopback (the only
place plain text is acceptable), and app URLs also ask whether the authority names a real host at all, so
both live here, where each can import them without importing the others.
"""

from __future__ import annotations

import ipaddress
import string
from dataclasses import dataclass
from typing import Final

import idna

_ASCII_DIGITS: Final = frozenset(string.digits)
_HEX_DIGITS: Final = frozenset(string.hexdigits)
HOST_RULE: Final = (
    "must name a host: a DNS name (letters, digits and hyphens in each label, punycode `xn--` labels for "
    "internationalised names), an IPv4 address, or an IPv6 address in brackets"
)


def is_loopback_host(host: str | None) -> bool:
    """True for localhost and loopback addresses: the only places plain http is acceptable."""
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class BadAuthority(ValueError):
    """The authority of a URL does not name a host (and port) a browser and DNS would agree on.

    The message is one of a few fixed sentences, never the input, so it is safe to echo to a client.
    """


@dataclass(frozen=True, slots=True)
class Authority:
    """A checked `host[:port]`: `host` is a DNS name, a dotted-quad IPv4 address or `[IPv6]`, as written."""

    host: str
    port: int | None

    def __str__(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"


def _is_digits(text: str, digits: frozenset[str] = _ASCII_DIGITS) -> bool:
    return bool(text) and all(character in digits for character in text)


def _looks_numeric(label: str) -> bool:
    """The WHATWG URL parser reads a host whose last label is a number (`1`, `0x7f`) as an IPv4 address."""
    lowered = label.lower()
    if lowered.startswith("0x"):
        return all(character in _HEX_DIGITS for character in lowered[2:])
    return _is_digits(label)


def _check_ipv6(literal: str) -> None:
    try:
        address = ipaddress.IPv6Address(literal)
    except ValueError:
        raise BadAuthority("has an IPv6 address in brackets that is not a valid IPv6 address") from None
    if address.scope_id is not None:
        raise BadAuthority("must not give an IPv6 zone (`%25…`)")


def _check_name(name: str) -> None:
    if not name.isascii():
        raise BadAuthority("must give an internationalised host name in its punycode (`xn--`) form")
    last_label = name.removesuffix(".").rpartition(".")[2]
    if _looks_numeric(last_label):
        try:
            ipaddress.IPv4Address(name)
        except ValueError:
            raise BadAuthority("has a numeric host that is not a dotted-quad IPv4 address") from None
        return
    try:
        # IDNA 2008 (RFC 5891): LDH labels of 1 to 63 characters, no leading or trailing hyphen, valid
        # A-labels, at most 253 characters in all. Rejects `;`, `,`, `'`, spaces, `_` and the like.
        idna.encode(name, uts46=False)
    except idna.IDNAError:
        raise BadAuthority(HOST_RULE) from None


def parse_authority(netloc: str) -> Authority:
    """`host[:port]` (no user information) checked strictly, or `BadAuthority` saying why not.

    The host is a DNS name accepted by IDNA 2008, a dotted-quad IPv4 address, or an IPv6 address in
    brackets (without a zone); the port, if given, is 0 to 65535 in decimal. Unicode names are refused: give
    their punycode form, which is what browsers send and what the exact match of redirect URIs compares.
    """
    if netloc.startswith("["):
        literal, bracket, rest = netloc[1:].partition("]")
        if not bracket:
            raise BadAuthority("has an IPv6 address without its closing bracket")
        _check_ipv6(literal)
        host = f"[{literal}]"
    else:
        host, colon, port_text = netloc.partition(":")
        rest = colon + port_text
        if not host:
            raise BadAuthority(HOST_RULE)
        _check_name(host)
    if not rest or rest == ":":
        return Authority(host, None)
    if not rest.startswith(":") or not _is_digits(rest[1:]) or int(rest[1:]) > 65535:
        raise BadAuthority("has a port that is not a number from 0 to 65535")
    return Authority(host, int(rest[1:]))
