"""The per-access-token rate limit of `/api/v1` (SPEC §5), on the `limits` library, with the RateLimit
header fields of draft-ietf-httpapi-ratelimit-headers (the -09 and later form: one `RateLimit-Policy`
item with `q` and `w`, one `RateLimit` item with `r` and `t`).

Counted per token (its `jti`) right after the signature check and before the grant is loaded, so a
flooding token costs no database work once it is over. A sliding-window counter (O(1) per hit, so a
generous limit costs no more than a tight one); in memory per process, or shared through Redis when
`GATEWAY_REDIS_URL` is set. Over the limit: 429 problem+json with `Retry-After`.

The header fields ride on every answer to a counted request: `RateLimitedRoute` adds them to the
`Response` an endpoint returns and to any `Problem` it raises (the data API builds its own responses,
whose headers FastAPI would not merge from an injected `Response`); `access_token` also sets them on
the injected `Response`, which covers endpoints that return a model.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Final, cast

from fastapi import Request, Response
from fastapi.routing import APIRoute
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

from gateway.errors import Problem
from gateway.settings import Settings

__all__ = ["POLICY", "ApiRateLimit", "Quota", "RateLimited", "RateLimitedRoute", "api_rate_limit", "spend"]

POLICY: Final = "default"
NAMESPACE: Final = "api-token"
_STATE: Final = "api_quota"


@dataclass(frozen=True, slots=True)
class Quota:
    """Where one token stands after this request: the policy, what is left and when it comes back."""

    limit: int
    window_seconds: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        return {
            "ratelimit-policy": f'"{POLICY}";q={self.limit};w={self.window_seconds}',
            "ratelimit": f'"{POLICY}";r={self.remaining};t={self.reset_seconds}',
        }


class RateLimited(Problem):
    status, slug, title = 429, "rate-limited", "Too many requests"

    def __init__(self, quota: Quota) -> None:
        retry = max(1, quota.reset_seconds)
        super().__init__(
            f"This access token has made {quota.limit} requests in {quota.window_seconds} seconds, its "
            f"limit. Try again in {retry} seconds.",
            headers={**quota.headers(), "retry-after": str(retry)},
        )


class ApiRateLimit:
    def __init__(self, limit: str, redis_url: str | None = None) -> None:
        storage: Storage = (
            cast(Storage, storage_from_string(f"async+{redis_url}")) if redis_url else MemoryStorage()
        )
        self.item: RateLimitItem = parse(limit)
        self.limiter = SlidingWindowCounterRateLimiter(storage)

    async def hit(self, jti: str) -> tuple[bool, Quota]:
        """Count one request of the token `jti` if it is within the limit; whether it was, and the quota."""
        allowed = await self.limiter.hit(self.item, NAMESPACE, jti)
        stats = await self.limiter.get_window_stats(self.item, NAMESPACE, jti)
        quota = Quota(
            limit=self.item.amount,
            window_seconds=self.item.get_expiry(),
            remaining=0 if not allowed else stats.remaining,
            reset_seconds=max(0, math.ceil(stats.reset_time - time.time())),
        )
        return allowed, quota


def api_rate_limit(request: Request) -> ApiRateLimit:
    """The app's limiter, made on first use from its settings (one per app, so per process)."""
    state = request.app.state
    limiter: ApiRateLimit | None = getattr(state, "api_rate_limit", None)
    if limiter is None:
        settings: Settings = state.settings
        limiter = ApiRateLimit(settings.api_rate_limit, settings.redis_url)
        state.api_rate_limit = limiter
    return limiter


async def spend(request: Request, response: Response, jti: str) -> None:
    """Count this request against the token; `RateLimited` when it is over. Leaves the header fields
    on `request.state` (for `RateLimitedRoute`) and on the injected `response`."""
    allowed, quota = await api_rate_limit(request).hit(jti)
    if not allowed:
        raise RateLimited(quota)
    setattr(request.state, _STATE, quota)
    response.headers.update(quota.headers())


def _quota_of(request: Request) -> Quota | None:
    quota = getattr(request.state, _STATE, None)
    return quota if isinstance(quota, Quota) else None


class RateLimitedRoute(APIRoute):
    """Adds the RateLimit header fields of a counted request to whatever the endpoint answers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_with_quota(request: Request) -> Response:
            try:
                response = await handle(request)
            except Problem as problem:
                quota = _quota_of(request)
                if quota is not None:
                    problem.headers = {**quota.headers(), **problem.headers}
                raise
            quota = _quota_of(request)
            if quota is not None:
                response.headers.update(quota.headers())
            return response

        return handle_with_quota
