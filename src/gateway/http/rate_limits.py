"""Counting requests against a limit, on the `limits` library: the one mechanism behind sign-in
throttling, the token endpoint's per-client limit and the data API's per-token limit (SPEC §5).

In memory per process by default; `GATEWAY_REDIS_URL` shares the counters between processes. One storage
serves every limiter of an app (`limit_storage`), so Redis is one connection pool, not one per limit.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from typing import cast

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string


def limit_storage(redis_url: str | None) -> Storage:
    return cast(Storage, storage_from_string(f"async+{redis_url}")) if redis_url else SweptMemoryStorage()


class SweptMemoryStorage(MemoryStorage):
    """`limits`' in-memory storage, sweeping expired counters at most once a second.

    The library starts a sweep of every key (one thread hop per moving-window key) whenever a counter
    changes and no sweep is running: under load that is one sweep per request, whatever the number of
    keys. Expired entries are ignored when read either way; the sweep only frees memory, so once a
    second is plenty."""

    SWEEP_EVERY = 1.0

    def __init__(self) -> None:
        super().__init__()
        self._last_sweep = 0.0

    async def _MemoryStorage__schedule_expiry(self) -> None:  # the library's (name-mangled) hook
        now = time.monotonic()
        if now - self._last_sweep < self.SWEEP_EVERY or (self.timer is not None and not self.timer.done()):
            return
        self._last_sweep = now
        self.timer = asyncio.create_task(self._MemoryStorage__expire_events())  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Quota:
    """Where one key stands after a hit: allowed or not, the policy, what is left, when it comes back."""

    allowed: bool
    limit: int
    window_seconds: int
    remaining: int
    reset_seconds: int

    @property
    def retry_after(self) -> int:
        return max(1, self.reset_seconds)


class RateLimiter:
    """`limit` (e.g. "600/5minutes") per key within `namespace`.

    A sliding-window counter by default (O(1) per hit, so a generous limit costs no more than a tight
    one); `moving_window` keeps every hit's time, exact for small limits such as sign-in attempts.
    """

    def __init__(self, limit: str, namespace: str, storage: Storage, *, moving_window: bool = False) -> None:
        self.item: RateLimitItem = parse(limit)
        self.namespace = namespace
        strategy = MovingWindowRateLimiter if moving_window else SlidingWindowCounterRateLimiter
        self.limiter = strategy(storage)

    async def exhausted(self, key: str) -> int | None:
        """Seconds until `key` may be counted again if it is at its limit now, else None (counts nothing)."""
        if await self.limiter.test(self.item, self.namespace, key):
            return None
        stats = await self.limiter.get_window_stats(self.item, self.namespace, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def hit(self, key: str, *, with_quota: bool = True) -> Quota:
        """Count one request of `key` if it is within the limit. Reading the window (a second storage
        call) is skipped for an allowed hit when the caller needs no quota."""
        allowed = await self.limiter.hit(self.item, self.namespace, key)
        if allowed and not with_quota:
            return Quota(True, self.item.amount, self.item.get_expiry(), 0, 0)
        stats = await self.limiter.get_window_stats(self.item, self.namespace, key)
        return Quota(
            allowed=allowed,
            limit=self.item.amount,
            window_seconds=self.item.get_expiry(),
            remaining=stats.remaining if allowed else 0,
            reset_seconds=max(0, math.ceil(stats.reset_time - time.time())),
        )
