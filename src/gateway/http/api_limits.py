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

from collections.abc import Callable, Coroutine
from typing import Any, Final

from fastapi import Request, Response
from fastapi.routing import APIRoute
from limits.aio.storage import Storage

from gateway.errors import Problem
from gateway.http.rate_limits import Quota, RateLimiter

__all__ = ["POLICY", "ApiRateLimit", "Quota", "RateLimited", "RateLimitedRoute", "api_rate_limit", "spend"]

POLICY: Final = "default"
NAMESPACE: Final = "api-token"
_STATE: Final = "api_quota"


def quota_headers(quota: Quota) -> dict[str, str]:
    return {
        "ratelimit-policy": f'"{POLICY}";q={quota.limit};w={quota.window_seconds}',
        "ratelimit": f'"{POLICY}";r={quota.remaining};t={quota.reset_seconds}',
    }


class RateLimited(Problem):
    status, slug, title = 429, "rate-limited", "Too many requests"

    def __init__(self, quota: Quota) -> None:
        super().__init__(
            f"This access token has made {quota.limit} requests in {quota.window_seconds} seconds, its "
            f"limit. Try again in {quota.retry_after} seconds.",
            headers={**quota_headers(quota), "retry-after": str(quota.retry_after)},
        )


class ApiRateLimit:
    def __init__(self, limit: str, storage: Storage) -> None:
        self.limiter = RateLimiter(limit, NAMESPACE, storage)

    async def hit(self, jti: str) -> Quota:
        """Count one request of the token `jti` if it is within the limit; the quota after it."""
        return await self.limiter.hit(jti)


def api_rate_limit(request: Request) -> ApiRateLimit:
    limiter: ApiRateLimit = request.app.state.api_rate_limit
    return limiter


async def spend(request: Request, response: Response, jti: str) -> None:
    """Count this request against the token; `RateLimited` when it is over. Leaves the header fields
    on `request.state` (for `RateLimitedRoute`) and on the injected `response`."""
    quota = await api_rate_limit(request).hit(jti)
    if not quota.allowed:
        raise RateLimited(quota)
    setattr(request.state, _STATE, quota)
    response.headers.update(quota_headers(quota))


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
                    problem.headers = {**quota_headers(quota), **problem.headers}
                raise
            quota = _quota_of(request)
            if quota is not None:
                response.headers.update(quota_headers(quota))
            return response

        return handle_with_quota
