"""The rate-limiter seam: what the client waits on before each attempt.

Plaid counts every request, retries included, so a limiter is asked before each attempt, not
once per call. Anything with ``async def acquire(path, item_key)`` is a limiter; a number means
an in-process limiter of that many requests per second. Two implementations: this module's
:class:`LocalRateLimiter` (one process) and :class:`~plaid_async.RedisRateLimiter` (one budget
per ``client_id`` across processes and machines).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from aiolimiter import AsyncLimiter

from ._compat import within
from .budgets import Budgets, SlidingLog
from .deadline import Deadline
from .errors import RateLimitWaitTimeout

__all__ = ["LocalRateLimiter", "RateLimiter", "as_rate_limiter", "wait_for_budget"]


@runtime_checkable
class RateLimiter(Protocol):
    """Waits until a request to ``path`` for the Item ``item_key`` may be sent.

    ``item_key`` is the SHA-256 hex digest of the access token, never the token. Waiting must be
    cancellation-safe: a cancelled wait leaves no reservation behind.
    """

    async def acquire(self, path: str, item_key: str) -> None: ...


class LocalRateLimiter:
    """A limit for this process only: ``rate`` requests per second across all endpoints, or
    ``budgets`` per endpoint for the client and per Item (the same :class:`Budgets` as
    :class:`~plaid_async.RedisRateLimiter`'s). Exactly one of the two.

    ``rate`` is a leaky bucket (aiolimiter) that holds a tenth of a second's worth of requests
    (at least one): requests are spaced evenly rather than sent in a burst at the start of
    each second, while a late wake-up can still catch up. ``budgets`` are sliding windows: a
    request is counted only once every budget it falls under has room.
    """

    def __init__(
        self,
        rate: float | None = None,
        *,
        budgets: Budgets | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if (rate is None) == (budgets is None):
            raise TypeError("give LocalRateLimiter either a rate or budgets, not both or neither")
        self.rate: float | None = None
        self.budgets = budgets
        self._limiter: AsyncLimiter | None = None
        self._log: SlidingLog | None = None
        if budgets is not None:
            if not isinstance(budgets, Budgets):
                raise TypeError(f"budgets must be a Budgets, not {type(budgets).__name__}")
            self._log = SlidingLog(clock)
            return
        if isinstance(rate, bool) or not isinstance(rate, int | float):
            raise TypeError(f"rate_limit must be a number of requests per second, not {rate!r}")
        if not math.isfinite(rate) or rate <= 0:
            raise ValueError(f"rate_limit must be a positive number of requests per second: {rate}")
        self.rate = float(rate)
        burst = max(1.0, self.rate / 10)
        self._limiter = AsyncLimiter(burst, burst / self.rate)

    async def acquire(self, path: str, item_key: str) -> None:
        if self._limiter is not None:
            await self._limiter.acquire()
            return
        assert self._log is not None
        assert self.budgets is not None
        rules = self.budgets.rules(path, item_key)
        while True:
            wait = self._log.try_acquire(rules)
            if not wait:
                return
            await asyncio.sleep(wait)  # nothing is counted until try_acquire admits

    def __repr__(self) -> str:
        if self.rate is not None:
            return f"LocalRateLimiter(rate={self.rate:g})"
        return f"LocalRateLimiter(budgets={self.budgets!r})"


def as_rate_limiter(value: float | RateLimiter | None) -> RateLimiter | None:
    """A limiter from what a user passed: None, requests per second, or a limiter object."""
    if value is None or isinstance(value, RateLimiter):
        return value
    return LocalRateLimiter(value)


async def wait_for_budget(
    limiters: Sequence[RateLimiter], path: str, item_key: str, deadline: Deadline
) -> None:
    """Wait on each limiter in turn, within the call's deadline.

    Past the deadline the wait is abandoned (cancelled, so no reservation is kept) and a
    :class:`~plaid_async.RateLimitWaitTimeout` says that nothing was sent.
    """
    time_left = deadline.remaining()
    if time_left is None:
        for limiter in limiters:
            await limiter.acquire(path, item_key)
        return
    if not await within(_acquire_all(limiters, path, item_key), time_left):
        raise RateLimitWaitTimeout(
            "the deadline passed while waiting for rate-limit budget; nothing was sent",
            timeout=time_left,
        )


async def _acquire_all(limiters: Sequence[RateLimiter], path: str, item_key: str) -> None:
    for limiter in limiters:
        await limiter.acquire(path, item_key)
