"""What a URL's host is, for the rules that allow plain text only on the machine itself: pure, no I/O, no DNS.

Settings (the issuer), the SMTP URL and app redirect URIs all ask the same question, so it lives here, where
each can import it without importing the others.
"""

from __future__ import annotations

import ipaddress


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
