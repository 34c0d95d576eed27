"""Rate limits on the back channel (SPEC §5): token requests per client, failed authentications per client
id and per address.

Token requests are counted per authenticated client, after authentication: a third party who knows a
(public) client_id but not its secret cannot spend a confidential client's allowance.

Failed client authentications on `/oauth/token`, `/oauth/revoke` and `/oauth/introspect` are counted per
presented client id and, apart, per client address. Once either is at its limit, requests from it are
refused before any secret is checked, until the window passes: guessing a secret, or trying many client
ids from one address, costs a window per few attempts. Over a limit: 429 `too_many_requests` with
Retry-After, RFC 6749-shaped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Request
from limits.aio.storage import Storage

from gateway.http.rate_limits import RateLimiter
from gateway.oauth.errors import InvalidClient, TooManyRequests

NAMESPACE = "oauth-token"
_NO_CLIENT_ID = "-"


class ClientRateLimit:
    def __init__(self, limit: str, storage: Storage) -> None:
        self.limiter = RateLimiter(limit, NAMESPACE, storage)

    async def check(self, client_id: str) -> None:
        """Count one token request of `client_id`; `TooManyRequests` once it is over the limit."""
        quota = await self.limiter.hit(client_id, with_quota=False)
        if not quota.allowed:
            raise TooManyRequests(
                f"Too many token requests for this client. Try again in {quota.retry_after} seconds.",
                headers={"retry-after": str(quota.retry_after)},
            )


class FailedAuthentications:
    """Failed client authentications, per presented client id and per client address."""

    def __init__(self, limit: str, storage: Storage) -> None:
        self.per_client = RateLimiter(limit, "oauth-client-failures", storage, moving_window=True)
        self.per_address = RateLimiter(limit, "oauth-address-failures", storage, moving_window=True)

    async def refuse_if_exhausted(self, client_id: str | None, address: str) -> None:
        for limiter, key in ((self.per_client, client_id or _NO_CLIENT_ID), (self.per_address, address)):
            wait = await limiter.exhausted(key)
            if wait is not None:
                raise TooManyRequests(
                    f"Too many failed client authentications. Try again in {wait} seconds.",
                    headers={"retry-after": str(wait)},
                )

    async def count(self, client_id: str | None, address: str) -> None:
        await self.per_client.hit(client_id or _NO_CLIENT_ID, with_quota=False)
        await self.per_address.hit(address, with_quota=False)


def client_rate_limit(request: Request) -> ClientRateLimit:
    limiter: ClientRateLimit = request.app.state.token_rate_limit
    return limiter


@asynccontextmanager
async def counting_failures(request: Request, client_id: str | None) -> AsyncIterator[None]:
    """Refuse a client id or address over its failure limit; count an `InvalidClient` raised inside."""
    failures: FailedAuthentications = request.app.state.client_auth_failures
    address = request.client.host if request.client else "unknown"
    await failures.refuse_if_exhausted(client_id, address)
    try:
        yield
    except InvalidClient:
        await failures.count(client_id, address)
        raise
