"""Per-client-address throttling for sign-in forms (SPEC §5).

Behind a proxy the client address is the proxy's unless the server is told to trust forwarded headers.
"""

from __future__ import annotations

from fastapi import Request
from limits.aio.storage import Storage

from gateway.accounts.errors import TooManyAttempts
from gateway.http.rate_limits import RateLimiter

SIGN_IN_LIMIT = "30/5minutes"


class Throttle:
    def __init__(self, storage: Storage, limit: str = SIGN_IN_LIMIT) -> None:
        self.storage = storage
        self.limit = limit
        self._limiters: dict[str, RateLimiter] = {}

    async def check(self, request: Request, scope: str) -> None:
        limiter = self._limiters.get(scope)
        if limiter is None:
            limiter = self._limiters[scope] = RateLimiter(self.limit, scope, self.storage, moving_window=True)
        client = request.client.host if request.client else "unknown"
        quota = await limiter.hit(client, with_quota=False)
        if not quota.allowed:
            raise TooManyAttempts(
                f"Too many attempts from your network. Try again in {quota.retry_after} seconds.",
                headers={"retry-after": str(quota.retry_after)},
            )
