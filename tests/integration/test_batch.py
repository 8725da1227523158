"""The batch runner against the emulator over real loopback sockets.

Counts, not clocks: what the emulator saw (requests, the most in flight at once) and what the
consumer got. The one test that needs a steady clock (the rate over several seconds) is slow.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from plaid_async import (
    BatchProgress,
    BatchSummary,
    ItemResult,
    PlaidClient,
    PlaidInputError,
    PlaidTimeoutError,
    RetryPolicy,
)
from plaid_async.sandbox import Faults, RateLimits, SandboxServer
from plaid_async.sandbox.pytest_plugin import FAST_TIMEOUTS, fast_retry

OUR_CODE = ("plaid_async/batch.py", "plaid_async/client.py", "aiohttp/client")


def client_for(sandbox: SandboxServer, **kwargs: object) -> PlaidClient:
    kwargs.setdefault("retry", fast_retry())
    kwargs.setdefault("timeouts", FAST_TIMEOUTS)
    return sandbox.client(connect_timeout=1.0, **kwargs)


def our_tasks() -> set[asyncio.Task[object]]:
    """Tasks running the client's or the batch's code (the emulator's own are left out)."""
    tasks = set()
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        if code is not None and any(part in code.co_filename for part in OUR_CODE):
            tasks.add(task)
    return tasks


async def collect(results: AsyncIterator[ItemResult]) -> list[ItemResult]:
    async with contextlib.aclosing(results):  # type: ignore[type-var]
        return [result async for result in results]


async def settle(sandbox: SandboxServer) -> None:
    """Let the emulator see the closed connections: its handlers end a loop turn or two later."""
    for _ in range(200):
        if sandbox.stats.in_flight == 0:
            return
        await asyncio.sleep(0.01)


async def test_2000_tokens_with_faults_give_one_result_each(plaid_sandbox: SandboxServer) -> None:
    plaid_sandbox.set_faults(
        Faults(latency=0.005, rate_500=0.03, rate_429=0.03, rate_reset=0.02, rate_truncate=0.02)
    )
    tokens = [plaid_sandbox.token(i) for i in range(2000)]
    progress: list[BatchProgress] = []
    async with client_for(plaid_sandbox, max_connections=50) as client:
        results = await collect(
            client.accounts_balance_get_many(tokens, concurrency=50, on_progress=progress.append)
        )
    assert len(results) == 2000
    assert sorted(r.index for r in results) == list(range(2000))
    assert all(r.access_token == tokens[r.index] for r in results)
    summary = BatchSummary.of(results)
    stats = plaid_sandbox.stats
    assert sum(stats.faults.values()) > 150  # about 10% of the requests misbehaved
    assert summary.retried > 150
    # Every request the emulator saw is a first attempt or a counted retry.
    assert stats.requests == 2000 + progress[-1].retried
    # A token fails only when all three of its attempts drew a fault (about 1 in 1,000).
    assert summary.failed <= 10
    assert summary.ok + summary.failed == 2000
    assert 40 <= stats.max_in_flight <= 50


async def test_in_flight_never_above_the_bound_and_close_to_it(
    plaid_sandbox: SandboxServer,
) -> None:
    plaid_sandbox.set_faults(Faults(latency=0.05))
    async with client_for(plaid_sandbox, max_connections=100) as client:
        tokens = (plaid_sandbox.token(i) for i in range(300))
        results = await collect(client.accounts_get_many(tokens, concurrency=30))
    assert len(results) == 300
    assert 27 <= plaid_sandbox.stats.max_in_flight <= 30


async def test_the_input_is_consumed_lazily(plaid_sandbox: SandboxServer) -> None:
    plaid_sandbox.set_faults(Faults(latency=0.002))
    pulled = 0
    yielded = 0
    most_ahead = 0

    def tokens() -> Iterator[str]:
        nonlocal pulled
        for i in range(1_000_000):
            pulled += 1
            yield plaid_sandbox.token(i)

    async with client_for(plaid_sandbox) as client:
        results = client.accounts_get_many(tokens(), concurrency=20)
        async with contextlib.aclosing(results):
            async for _ in results:
                yielded += 1
                most_ahead = max(most_ahead, pulled - yielded)
                if yielded == 500:
                    break
    assert most_ahead <= 20
    assert pulled <= 500 + 20
    assert plaid_sandbox.stats.requests <= 500 + 20


async def test_an_async_iterable_input(plaid_sandbox: SandboxServer) -> None:
    async def tokens() -> AsyncIterator[str]:
        for i in range(100):
            if i % 10 == 0:
                await asyncio.sleep(0.001)  # a database cursor fetching its next page
            yield plaid_sandbox.token(i)

    async with client_for(plaid_sandbox) as client:
        results = await collect(client.accounts_balance_get_many(tokens(), concurrency=8))
    assert sorted(r.index for r in results) == list(range(100))
    assert all(r.ok for r in results)


async def test_duplicates_and_bad_tokens_get_their_own_results(
    plaid_sandbox: SandboxServer,
) -> None:
    good = plaid_sandbox.token(1)
    locked = plaid_sandbox.error_token("ITEM_LOGIN_REQUIRED")
    tokens: list[object] = [good, good, "", locked, 42, "has space", good, None, good]
    async with client_for(plaid_sandbox) as client:
        results = await collect(client.accounts_get_many(tokens, concurrency=4))  # type: ignore[arg-type]
    by_index = {r.index: r for r in results}
    assert sorted(by_index) == list(range(len(tokens)))
    assert [i for i, r in sorted(by_index.items()) if r.ok] == [0, 1, 6, 8]
    for i in (2, 4, 5, 7):
        assert isinstance(by_index[i].error, PlaidInputError)
    assert getattr(by_index[3].error, "error_code", None) == "ITEM_LOGIN_REQUIRED"
    assert BatchSummary.of(results).by_error_code == {
        "PlaidInputError": 4,
        "ITEM_LOGIN_REQUIRED": 1,
    }
    # Nothing was sent for the bad tokens; the others were each sent once.
    assert plaid_sandbox.stats.requests == 5


async def test_rate_limit_is_not_exceeded(plaid_sandbox: SandboxServer) -> None:
    """The fast variant: a lower bound on time is robust on a busy machine."""
    async with client_for(plaid_sandbox) as client:
        start = time.monotonic()
        tokens = [plaid_sandbox.token(i) for i in range(60)]
        results = await collect(client.accounts_get_many(tokens, concurrency=20, rate_limit=100))
        elapsed = time.monotonic() - start
    assert len(results) == 60
    # 100/s with a burst of 10: the last request cannot go before 0.5 s.
    assert elapsed >= 0.45


@pytest.mark.slow
async def test_rate_limit_is_honoured_within_ten_percent(plaid_sandbox: SandboxServer) -> None:
    plaid_sandbox.set_faults(Faults(latency=0.01, rate_500=0.05))
    rate = 20.0
    async with client_for(plaid_sandbox) as client:
        start = time.monotonic()
        tokens = [plaid_sandbox.token(i) for i in range(120)]
        results = await collect(client.accounts_get_many(tokens, concurrency=10, rate_limit=rate))
        elapsed = time.monotonic() - start
    assert len(results) == 120
    achieved = plaid_sandbox.stats.requests / elapsed  # retries count against the limit too
    assert rate * 0.9 <= achieved <= rate * 1.1


async def test_a_rate_limit_under_plaids_keeps_its_429s_away(plaid_sandbox: SandboxServer) -> None:
    """Plaid's per-client balance limit, scaled to 40 a second: 30/s (and a burst of 3) stays
    under it in every sliding second, with room for requests bunched up on a busy machine;
    the same run unlimited is refused."""
    plaid_sandbox.set_rate_limits(RateLimits(balance_per_client=40, window=1.0))
    tokens = [plaid_sandbox.token(i) for i in range(50)]
    no_retry = RetryPolicy(max_attempts=1)
    async with client_for(plaid_sandbox, retry=no_retry) as client:
        limited = await collect(
            client.accounts_balance_get_many(tokens, concurrency=20, rate_limit=30)
        )
        assert all(r.ok for r in limited)
        await asyncio.sleep(1.0)  # the emulator's window empties
        unlimited = await collect(client.accounts_balance_get_many(tokens, concurrency=20))
    refused = BatchSummary.of(unlimited).by_error_code["ACCOUNTS_BALANCE_GET_LIMIT"]
    assert refused > 0


async def test_a_client_wide_limiter_within_the_deadline_for_single_calls(
    plaid_sandbox: SandboxServer,
) -> None:
    """Single calls still wait for budget inside their deadline: a web handler has one."""
    retry = RetryPolicy(max_attempts=1, deadline=0.2)
    async with client_for(plaid_sandbox, retry=retry, rate_limiter=5) as client:
        calls = [client.accounts_get(plaid_sandbox.token(i)) for i in range(5)]
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
    assert any(isinstance(o, PlaidTimeoutError) for o in outcomes)


# -- leaving early ---------------------------------------------------------------------------


async def assert_stopped_and_usable(sandbox: SandboxServer, client: PlaidClient) -> None:
    """No more requests go out, none of ours is left running, every connection is free."""
    await settle(sandbox)
    sent = sandbox.stats.requests
    await asyncio.sleep(0.15)  # longer than the emulator's latency: a late request would show
    assert sandbox.stats.requests == sent
    assert sandbox.stats.in_flight == 0
    assert our_tasks() == set()
    # All 10 pooled connections are free: a new run has 10 requests in flight at once.
    sandbox.reset_stats()
    tokens = [sandbox.token(i) for i in range(30)]
    results = await collect(client.accounts_get_many(tokens, concurrency=10))
    assert all(r.ok for r in results)
    assert sandbox.stats.max_in_flight == 10


@pytest.fixture
def slow_sandbox(plaid_sandbox: SandboxServer) -> SandboxServer:
    plaid_sandbox.set_faults(Faults(latency=0.1))
    return plaid_sandbox


def many_tokens(sandbox: SandboxServer) -> Iterator[str]:
    return (sandbox.token(i) for i in range(10_000))


async def test_break_stops_the_run(slow_sandbox: SandboxServer) -> None:
    async with client_for(slow_sandbox, max_connections=10) as client:
        results = client.accounts_balance_get_many(many_tokens(slow_sandbox), concurrency=10)
        async with contextlib.aclosing(results):
            async for result in results:
                assert result.ok
                break
        assert slow_sandbox.stats.requests <= 11
        await assert_stopped_and_usable(slow_sandbox, client)


async def test_an_exception_in_the_consumer_stops_the_run(slow_sandbox: SandboxServer) -> None:
    async with client_for(slow_sandbox, max_connections=10) as client:
        results = client.accounts_balance_get_many(many_tokens(slow_sandbox), concurrency=10)

        async def save_all() -> None:
            async with contextlib.aclosing(results):
                async for result in results:
                    raise KeyError(f"the database rejected row {result.index}")

        with pytest.raises(KeyError):
            await save_all()
        await assert_stopped_and_usable(slow_sandbox, client)


async def test_a_break_without_aclosing_stops_the_run(slow_sandbox: SandboxServer) -> None:
    async with client_for(slow_sandbox, max_connections=10) as client:
        async for _ in client.accounts_balance_get_many(many_tokens(slow_sandbox), concurrency=10):
            break
        # The generator is closed by asyncio's finalizer, a loop turn or so later.
        await asyncio.sleep(0.01)
        await assert_stopped_and_usable(slow_sandbox, client)


async def test_cancelling_the_consumer_stops_the_run(slow_sandbox: SandboxServer) -> None:
    got: list[ItemResult] = []
    enough = asyncio.Event()
    progress = BatchProgress()

    def watch(live: BatchProgress) -> None:
        nonlocal progress
        progress = live

    async def consume(client: PlaidClient) -> None:
        results = client.accounts_balance_get_many(
            many_tokens(slow_sandbox), concurrency=10, on_progress=watch
        )
        async with contextlib.aclosing(results):
            async for result in results:
                got.append(result)
                if len(got) == 15:
                    enough.set()

    async with client_for(slow_sandbox, max_connections=10) as client:
        task = asyncio.create_task(consume(client))
        await enough.wait()
        await asyncio.sleep(0)  # the consumer is back waiting for results
        assert progress.in_flight > 0  # calls are out when the consumer goes
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await assert_stopped_and_usable(slow_sandbox, client)
