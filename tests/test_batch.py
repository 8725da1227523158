"""The batch runner without a network: one result per token, laziness, bounds, leaving early."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest

from plaid_async import (
    AccountsGetResponse,
    BatchProgress,
    BatchSummary,
    ItemResult,
    PlaidConnectionError,
    PlaidInputError,
    converter,
)
from plaid_async.batch import run_many
from tests.samples import response_doc

RESPONSE = converter.structure(response_doc(), AccountsGetResponse)


class FakeCall:
    """Stands in for one token's Plaid call: tokens ending in ``-bad`` fail, ``-slow`` take ten
    times the delay, ``-hang`` never answer."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.in_flight = 0
        self.max_in_flight = 0
        self.calls: list[str] = []
        self.cancelled = 0

    def __call__(self, token: str, on_retry: Callable[[], None]) -> Awaitable[AccountsGetResponse]:
        if not isinstance(token, str) or not token:  # checked at once, as the client does
            raise ValueError("access_token must not be empty")
        return self._run(token, on_retry)

    async def _run(self, token: str, on_retry: Callable[[], None]) -> AccountsGetResponse:
        self.calls.append(token)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay * (10 if token.endswith("-slow") else 1))
            if token.endswith("-hang"):
                await asyncio.sleep(3600)
            if token.endswith("-retry"):
                on_retry()
            if token.endswith("-bad"):
                raise PlaidConnectionError("reset")
            return RESPONSE
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.in_flight -= 1


async def collect(results: AsyncIterator[ItemResult]) -> list[ItemResult]:
    return [result async for result in results]


async def test_one_result_per_token_whatever_happens() -> None:
    tokens = [f"t{i}" + ("-bad" if i % 7 == 0 else "") for i in range(500)]
    tokens += ["t1", "t1", ""]  # duplicates and an empty token
    call = FakeCall()
    results = await collect(run_many(call, tokens, concurrency=16))
    assert sorted(r.index for r in results) == list(range(len(tokens)))
    for result in results:
        assert result.access_token == tokens[result.index]
        assert result.ok == (result.error is None) == (result.response is not None)
    failed = {r.index for r in results if not r.ok}
    assert failed == {i for i, t in enumerate(tokens) if t.endswith("-bad") or not t}
    empty = next(r for r in results if r.index == len(tokens) - 1)
    assert isinstance(empty.error, PlaidInputError)
    assert isinstance(empty.error.__cause__, ValueError)


async def test_results_come_in_completion_order() -> None:
    call = FakeCall(delay=0.01)
    results = await collect(run_many(call, ["a-slow", "b", "c"], concurrency=3))
    assert [r.access_token for r in results] == ["b", "c", "a-slow"]


async def test_concurrency_is_bounded_and_used() -> None:
    call = FakeCall(delay=0.005)
    await collect(run_many(call, (f"t{i}" for i in range(300)), concurrency=25))
    assert call.max_in_flight == 25


async def test_input_is_consumed_lazily() -> None:
    pulled = 0

    def tokens() -> Iterator[str]:
        nonlocal pulled
        for i in range(1_000_000):
            pulled += 1
            yield f"t{i}"

    call = FakeCall()
    seen = 0
    async with contextlib.aclosing(run_many(call, tokens(), concurrency=10)) as results:
        async for _ in results:
            seen += 1
            assert pulled <= seen + 10
            if seen == 1_000:
                break
    assert pulled <= 1_010


async def test_an_async_iterable_input() -> None:
    async def tokens() -> AsyncIterator[str]:
        for i in range(50):
            await asyncio.sleep(0)
            yield f"t{i}"

    results = await collect(run_many(FakeCall(), tokens(), concurrency=4))
    assert sorted(r.index for r in results) == list(range(50))


async def test_leaving_early_cancels_what_is_in_flight() -> None:
    call = FakeCall()
    before = asyncio.all_tasks()
    tokens = ["fast"] + [f"t{i}-hang" for i in range(20)]
    async with contextlib.aclosing(run_many(call, tokens, concurrency=8)) as results:
        async for result in results:
            assert result.access_token == "fast"
            break
    assert call.cancelled == 7
    assert asyncio.all_tasks() == before


async def test_a_break_without_aclosing_still_cleans_up() -> None:
    call = FakeCall()
    before = asyncio.all_tasks()
    async for _ in run_many(call, ["x"] + [f"t{i}-hang" for i in range(5)], concurrency=6):
        break
    gc.collect()
    for _ in range(20):
        await asyncio.sleep(0)
    assert asyncio.all_tasks() == before
    assert call.cancelled == 5


async def test_the_consumer_being_cancelled_cancels_the_calls() -> None:
    call = FakeCall()
    tokens = ["a-hang", "b-hang", "c-hang"]

    async def consume() -> None:
        async with contextlib.aclosing(run_many(call, tokens, concurrency=3)) as rs:
            async for _ in rs:
                pass  # pragma: no cover

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert call.cancelled == 3


async def test_a_bug_in_the_call_is_raised_not_hidden() -> None:
    async def broken(token: str, on_retry: Callable[[], None]) -> AccountsGetResponse:
        raise RuntimeError("client closed")

    with pytest.raises(RuntimeError, match="client closed"):
        await collect(run_many(broken, ["a"], concurrency=1))


async def test_progress_and_summary() -> None:
    snapshots: list[tuple[int, int, int, int, int]] = []

    def on_progress(p: BatchProgress) -> None:
        snapshots.append((p.done, p.ok, p.failed, p.retried, p.in_flight))

    tokens = ["a", "b-bad", "c-retry", "d", "e-bad"]
    results = await collect(run_many(FakeCall(), tokens, concurrency=2, on_progress=on_progress))
    last = snapshots[-1]
    assert last == (5, 3, 2, 1, 0)
    assert all(s[4] <= 2 for s in snapshots)
    summary = BatchSummary.of(results)
    assert (summary.total, summary.ok, summary.failed, summary.retried) == (5, 3, 2, 1)
    assert summary.by_error_code == {"PlaidConnectionError": 2}
    assert 0 <= summary.latency(0.5) <= summary.latency(0.95)


async def test_progress_counts_the_calls_in_flight_as_they_start() -> None:
    """A progress bar sees the calls running before the first result, and the slot a result
    frees taken again, not one less."""
    in_flight: list[int] = []
    tokens = [f"t{n}" for n in range(10)]
    results = run_many(
        FakeCall(), tokens, concurrency=4, on_progress=lambda p: in_flight.append(p.in_flight)
    )
    await collect(results)
    assert in_flight[0] == 4
    assert in_flight.count(4) >= 6  # after each of the first six results, a new call starts
    assert in_flight[-1] == 0


@pytest.mark.parametrize(
    ("tokens", "concurrency", "error"),
    [
        (["a"], 0, ValueError),
        (["a"], 2.5, TypeError),
        ("access-sandbox-1", 2, TypeError),  # a single token is not a list of them
    ],
)
async def test_bad_batch_arguments(tokens: object, concurrency: object, error: type) -> None:
    with pytest.raises(error):
        await collect(run_many(FakeCall(), tokens, concurrency=concurrency))  # type: ignore[arg-type]


def test_an_item_result_hides_its_token() -> None:
    result = ItemResult(0, "access-sandbox-secret-token", RESPONSE, None)
    assert "access-sandbox-secret-token" not in repr(result)


async def test_a_value_error_inside_a_call_is_a_bug_not_a_bad_token() -> None:
    async def broken(token: str, on_retry: Callable[[], None]) -> AccountsGetResponse:
        raise ValueError("a decoding bug")  # raised when awaited: not the token's fault

    with pytest.raises(ValueError, match="a decoding bug"):
        await collect(run_many(broken, ["a"], concurrency=1))


def test_arguments_are_checked_where_they_are_written() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        run_many(FakeCall(), ["a"], concurrency=0)  # no iteration needed to see it
    with pytest.raises(TypeError, match="iterable"):
        run_many(FakeCall(), 42, concurrency=1)  # type: ignore[arg-type]


async def test_an_async_generator_input_is_closed_on_leaving_early() -> None:
    closed = asyncio.Event()

    async def tokens() -> AsyncIterator[str]:
        try:
            for i in range(1000):
                yield f"t{i}"
        finally:
            closed.set()

    before = asyncio.all_tasks()
    async with contextlib.aclosing(run_many(FakeCall(), tokens(), concurrency=4)) as results:
        async for _ in results:
            break
    assert closed.is_set()
    assert asyncio.all_tasks() == before  # no finalizer task left to close it later


async def test_an_input_that_fails_stops_the_run_and_cancels_the_calls() -> None:
    async def tokens() -> AsyncIterator[str]:
        yield "a-hang"
        yield "b-hang"
        await asyncio.sleep(0.01)  # the two calls are running by now
        raise OSError("the token file went away")

    call = FakeCall()
    before = asyncio.all_tasks()
    with pytest.raises(OSError, match="went away"):
        await collect(run_many(call, tokens(), concurrency=4))
    assert call.cancelled == 2
    assert asyncio.all_tasks() == before


def test_the_summary_stays_small_and_its_quantiles_close() -> None:
    summary = BatchSummary()
    small = BatchSummary.of(ItemResult(i, "t", RESPONSE, None, 1, i / 10) for i in range(1, 11))
    assert small.latency(0.5) == pytest.approx(0.55)  # exact, interpolated, for small runs
    for i in range(1, 100_001):
        summary.add(ItemResult(i, "t", RESPONSE, None, 1, i / 1000))  # 1 ms .. 100 s
    assert summary.total == 100_000
    assert summary.latency(0.5) == pytest.approx(50.0, rel=0.011)
    assert summary.latency(0.95) == pytest.approx(95.0, rel=0.011)
    assert summary.latency(0.0) == pytest.approx(0.001, rel=0.011)
    assert summary.latency(1.0) == pytest.approx(100.0, rel=0.011)
    assert len(summary._latency._buckets) < 1000  # not one entry per result
