"""Throttling `/oauth/authorize` (SPEC §5): anonymous requests that store something are limited.

Every good authorization request is stored before anyone signs in, so two limits bound what anyone can
make the gateway store (and the purge deletes it once expired, `consent.requests`):

- **per client address** (`GATEWAY_AUTHORIZE_ADDRESS_RATE_LIMIT`): every request counts, good or bad,
  before anything is looked up. Over it: a 429 page with Retry-After. A page, not a redirect: nothing about
  the request has been checked yet, so its redirect URI cannot be trusted (SPEC §3.2). An IPv6 address counts
  by its /64, the block one subscriber usually holds, so rotating addresses within it gains nothing.
- **per client** (`GATEWAY_AUTHORIZE_CLIENT_RATE_LIMIT`): only requests that passed every check and would be
  stored count, so an unknown `client_id` never makes a counter and a bad request costs its app nothing.
  Over it: back to the app's (verified) redirect URI with `error=temporarily_unavailable` (RFC 6749
  §4.1.2.1), `state` and `iss`, so the app can tell its user to try again shortly.

Behind a proxy the client address is the proxy's unless the server is told to trust forwarded headers.
"""

from __future__ import annotations

import ipaddress

from fastapi import Request
from limits.aio.storage import Storage

from gateway.http.rate_limits import RateLimiter

ADDRESS_NAMESPACE = "oauth-authorize-address"
CLIENT_NAMESPACE = "oauth-authorize-client"
IPV6_PREFIX = 64


class AuthorizeLimits:
    def __init__(self, *, per_address: str, per_client: str, storage: Storage) -> None:
        self.per_address = RateLimiter(per_address, ADDRESS_NAMESPACE, storage)
        self.per_client = RateLimiter(per_client, CLIENT_NAMESPACE, storage)

    async def address_wait(self, request: Request) -> int | None:
        """Count one request from the client's address; seconds to wait if it is over its limit."""
        quota = await self.per_address.hit(address_key(request), with_quota=False)
        return None if quota.allowed else quota.retry_after

    async def client_wait(self, client_id: str) -> int | None:
        """Count one request to be stored for `client_id`; seconds to wait if it is over its limit."""
        quota = await self.per_client.hit(client_id, with_quota=False)
        return None if quota.allowed else quota.retry_after


def address_key(request: Request) -> str:
    """The client's address as counted: IPv4 as is, IPv6 by its /64 network."""
    host = request.client.host if request.client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is the IPv4 client 192.0.2.1
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False))
    return str(address)


def authorize_limits(request: Request) -> AuthorizeLimits:
    limits: AuthorizeLimits = request.app.state.authorize_limits
    return limits
