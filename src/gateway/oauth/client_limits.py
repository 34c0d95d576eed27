"""The per-client rate limit on `/oauth/token` (SPEC §5), on the `limits` library.

Counted per authenticated client, after authentication: a third party who knows a (public) client_id but
not its secret cannot spend a confidential client's allowance. A sliding-window counter (O(1) per hit, so
a generous limit costs no more than a tight one); in memory per process, or shared through Redis when
`GATEWAY_REDIS_URL` is set. Over the limit: 429 `too_many_requests` with Retry-After, RFC 6749-shaped.
"""

from __future__ import annotations

import math
import time
from typing import cast

from fastapi import Request
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

from gateway.oauth.errors import TooManyRequests
from gateway.settings import Settings

NAMESPACE = "oauth-token"


class ClientRateLimit:
    def __init__(self, limit: str, redis_url: str | None = None) -> None:
        storage: Storage = (
            cast(Storage, storage_from_string(f"async+{redis_url}")) if redis_url else MemoryStorage()
        )
        self.item: RateLimitItem = parse(limit)
        self.limiter = SlidingWindowCounterRateLimiter(storage)

    async def check(self, client_id: str) -> None:
        """Count one token request of `client_id`; `TooManyRequests` once it is over the limit."""
        if await self.limiter.hit(self.item, NAMESPACE, client_id):
            return
        stats = await self.limiter.get_window_stats(self.item, NAMESPACE, client_id)
        retry = max(1, math.ceil(stats.reset_time - time.time()))
        raise TooManyRequests(
            f"Too many token requests for this client. Try again in {retry} seconds.",
            headers={"retry-after": str(retry)},
        )


def for_settings(settings: Settings) -> ClientRateLimit:
    return ClientRateLimit(settings.token_rate_limit, settings.redis_url)


def client_rate_limit(request: Request) -> ClientRateLimit:
    """The app's limiter, made on first use from its settings (one per app, so per process)."""
    state = request.app.state
    limiter: ClientRateLimit | None = getattr(state, "token_rate_limit", None)
    if limiter is None:
        limiter = for_settings(state.settings)
        state.token_rate_limit = limiter
    return limiter
