"""The rate-limiter seam: what the client waits on before each attempt.

Plaid counts every request, retries included, so a limiter is asked before each attempt, not
once per call. Anything with ``async def acquire(path, item_key)`` is a limiter; a number means
an in-process limiter of that many requests per second.
"""

from __future__ import annotations

import math
from typing import Protocol, runtime_checkable

from aiolimiter import AsyncLimiter

__all__ = ["LocalRateLimiter", "RateLimiter", "as_rate_limiter"]


@runtime_checkable
class RateLimiter(Protocol):
    """Waits until a request to ``path`` for the Item ``item_key`` may be sent.

    ``item_key`` is the SHA-256 hex digest of the access token, never the token. Waiting must be
    cancellation-safe: a cancelled wait leaves no reservation behind.
    """

    async def acquire(self, path: str, item_key: str) -> None: ...


class LocalRateLimiter:
    """At most ``rate`` requests per second from this process, across all endpoints.

    A leaky bucket (aiolimiter) that holds a tenth of a second's worth of requests (at least
    one): requests are spaced evenly rather than sent in a burst at the start of each second,
    while a late wake-up can still catch up, so the achieved rate stays at the one asked for.
    """

    def __init__(self, rate: float) -> None:
        if isinstance(rate, bool) or not isinstance(rate, int | float):
            raise TypeError(f"rate_limit must be a number of requests per second, not {rate!r}")
        if not math.isfinite(rate) or rate <= 0:
            raise ValueError(f"rate_limit must be a positive number of requests per second: {rate}")
        self.rate = float(rate)
        burst = max(1.0, self.rate / 10)
        self._limiter = AsyncLimiter(burst, burst / self.rate)

    async def acquire(self, path: str, item_key: str) -> None:
        await self._limiter.acquire()

    def __repr__(self) -> str:
        return f"LocalRateLimiter(rate={self.rate:g})"


def as_rate_limiter(value: float | RateLimiter | None) -> RateLimiter | None:
    """A limiter from what a user passed: None, requests per second, or a limiter object."""
    if value is None or isinstance(value, RateLimiter):
        return value
    return LocalRateLimiter(value)
