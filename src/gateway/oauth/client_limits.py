"""The per-client rate limit on `/oauth/token` (SPEC §5).

Counted per authenticated client, after authentication: a third party who knows a (public) client_id but
not its secret cannot spend a confidential client's allowance. Over the limit: 429 `too_many_requests`
with Retry-After, RFC 6749-shaped.
"""

from __future__ import annotations

from fastapi import Request
from limits.aio.storage import Storage

from gateway.http.rate_limits import RateLimiter
from gateway.oauth.errors import TooManyRequests

NAMESPACE = "oauth-token"


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


def client_rate_limit(request: Request) -> ClientRateLimit:
    limiter: ClientRateLimit = request.app.state.token_rate_limit
    return limiter
