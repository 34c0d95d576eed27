"""Per-client-address throttling for sign-in forms (SPEC §5), on the `limits` library.

In memory per process by default; `GATEWAY_REDIS_URL` shares the counters between processes.
Behind a proxy the client address is the proxy's unless the server is told to trust forwarded headers.
"""

from __future__ import annotations

import math
import time
from typing import cast

from fastapi import Request
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from gateway.accounts.errors import TooManyAttempts

SIGN_IN_LIMIT = "30/5minutes"


class Throttle:
    def __init__(self, limit: str = SIGN_IN_LIMIT, redis_url: str | None = None) -> None:
        storage: Storage = (
            cast(Storage, storage_from_string(f"async+{redis_url}")) if redis_url else MemoryStorage()
        )
        self.item: RateLimitItem = parse(limit)
        self.limiter = MovingWindowRateLimiter(storage)

    async def check(self, request: Request, scope: str) -> None:
        client = request.client.host if request.client else "unknown"
        if not await self.limiter.hit(self.item, scope, client):
            stats = await self.limiter.get_window_stats(self.item, scope, client)
            retry = max(1, math.ceil(stats.reset_time - time.time()))
            raise TooManyAttempts(
                f"Too many attempts from your network. Try again in {retry} seconds.",
                headers={"retry-after": str(retry)},
            )
