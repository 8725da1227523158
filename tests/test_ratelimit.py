"""The limiter seam: LocalRateLimiter's budgets, waiting within the deadline, and the Redis
dependency staying optional."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import pytest

from plaid_async import (
    Budget,
    Budgets,
    LocalRateLimiter,
    PlaidTimeoutError,
    RateLimiter,
    RateLimitWaitTimeout,
    RetryPolicy,
)
from plaid_async.sandbox import SandboxServer

GET = "/accounts/get"


def test_a_local_limiter_takes_a_rate_or_budgets() -> None:
    with pytest.raises(TypeError, match="either a rate or budgets"):
        LocalRateLimiter()
    with pytest.raises(TypeError, match="either a rate or budgets"):
        LocalRateLimiter(5, budgets=Budgets())
    with pytest.raises(TypeError, match="must be a Budgets"):
        LocalRateLimiter(budgets={GET: Budget(1, 1)})  # type: ignore[arg-type]
    assert isinstance(LocalRateLimiter(budgets=Budgets()), RateLimiter)
    assert "budgets=" in repr(LocalRateLimiter(budgets=Budgets()))


@pytest.mark.parametrize(("rate", "burst"), [(100.0, 10.0), (1000.0, 100.0), (5.0, 1.0)])
def test_a_local_rate_holds_a_tenth_of_a_seconds_worth_and_at_least_one(
    rate: float, burst: float
) -> None:
    """Requests are spaced evenly: the bucket (aiolimiter's) lets at most a tenth of a second's
    requests through at once, and always one."""
    bucket = LocalRateLimiter(rate)._limiter
    assert bucket is not None
    assert bucket.max_rate == burst
    assert bucket.time_period == pytest.approx(burst / rate)


async def test_local_budgets_hold_per_item_and_per_client() -> None:
    budgets = Budgets(per_client={GET: Budget(3, 30)}, per_item={GET: Budget(1, 30)})
    limiter = LocalRateLimiter(budgets=budgets)
    await limiter.acquire(GET, "a")
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(limiter.acquire(GET, "a"), 0.2)  # Item a's budget
    await asyncio.wait_for(limiter.acquire(GET, "b"), 5)
    await asyncio.wait_for(limiter.acquire(GET, "c"), 5)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(limiter.acquire(GET, "d"), 0.2)  # the client's budget
    await asyncio.wait_for(limiter.acquire("/accounts/balance/get", "a"), 5)  # no budget there


async def test_a_local_wait_ends_when_the_window_frees() -> None:
    limiter = LocalRateLimiter(budgets=Budgets(per_client={GET: Budget(1, 0.2, margin=0)}))
    await limiter.acquire(GET, "a")
    start = time.monotonic()
    await limiter.acquire(GET, "b")
    assert time.monotonic() - start >= 0.19


async def test_a_cancelled_local_wait_takes_no_budget() -> None:
    limiter = LocalRateLimiter(budgets=Budgets(per_client={GET: Budget(1, 0.3, margin=0)}))
    await limiter.acquire(GET, "a")
    waiting = asyncio.create_task(limiter.acquire(GET, "b"))
    await asyncio.sleep(0.05)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await asyncio.sleep(0.3)
    await asyncio.wait_for(limiter.acquire(GET, "c"), 0.25)  # the freed slot was not taken


async def test_the_deadline_passing_while_waiting_is_a_typed_error_and_nothing_is_sent(
    plaid_sandbox: SandboxServer,
) -> None:
    limiter = LocalRateLimiter(budgets=Budgets(per_client={GET: Budget(1, 30)}))
    retry = RetryPolicy(deadline=0.3)
    async with plaid_sandbox.client(rate_limiter=limiter, retry=retry) as client:
        await client.accounts_get(plaid_sandbox.token(1))
        with pytest.raises(RateLimitWaitTimeout) as info:
            await client.accounts_get(plaid_sandbox.token(2))
    assert isinstance(info.value, PlaidTimeoutError)
    assert plaid_sandbox.stats.requests == 1


class _GateLimiter:
    """A limiter that grants when the test opens its gate."""

    def __init__(self) -> None:
        self.gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting = asyncio.Event()

    async def acquire(self, path: str, item_key: str) -> None:
        self.waiting.set()
        await self.gate


async def test_a_cancellation_as_the_limiter_grants_is_not_lost_and_nothing_is_sent(
    plaid_sandbox: SandboxServer,
) -> None:
    """The grant and the caller's cancellation in one turn of the loop: the call is cancelled
    and sends nothing (``asyncio.wait_for`` before 3.12 would have returned and sent it)."""
    limiter = _GateLimiter()
    async with plaid_sandbox.client(rate_limiter=limiter) as client:
        call = asyncio.create_task(client.accounts_balance_get(plaid_sandbox.token(1)))
        await limiter.waiting.wait()

        def grant_and_cancel() -> None:
            limiter.gate.set_result(None)
            call.cancel()

        asyncio.get_running_loop().call_soon(grant_and_cancel)
        with pytest.raises(asyncio.CancelledError):
            await call
        await asyncio.sleep(0.05)
    assert plaid_sandbox.stats.requests == 0


def test_the_core_imports_without_redis_and_the_limiter_says_what_to_install() -> None:
    code = (
        "import sys; sys.modules['redis'] = None\n"
        "import plaid_async\n"
        "try:\n"
        "    plaid_async.RedisRateLimiter('redis://127.0.0.1:1', client_id='c')\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert "pip install 'plaid-async[redis]'" in out.stdout
    code = "import sys, plaid_async; print('redis' in sys.modules)"
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "False"
