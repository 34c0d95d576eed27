"""The in-memory rate-limit storage: counts as `limits` does; sweeps expired counters once a second."""

from __future__ import annotations

import asyncio

from gateway.http.rate_limits import RateLimiter, SweptMemoryStorage


async def test_counts_like_the_library_and_sweeps_at_most_once_a_second() -> None:
    storage = SweptMemoryStorage()
    moving = RateLimiter("3/second", "moving", storage, moving_window=True)
    sliding = RateLimiter("3/second", "sliding", storage)

    assert [(await moving.hit("k")).allowed for _ in range(4)] == [True, True, True, False]
    assert [(await sliding.hit("k")).allowed for _ in range(4)] == [True, True, True, False]
    first_sweep = storage.timer
    assert first_sweep is not None
    await first_sweep
    await moving.hit("other")  # within the second: no new sweep
    assert storage.timer is first_sweep

    await asyncio.sleep(1.1)
    assert (await moving.hit("k")).allowed  # the window moved on
    assert storage.timer is not first_sweep
    await storage.timer
    assert "other" not in " ".join(storage.events)  # expired moving-window entries were freed
