"""Many Items at once: a lazy, bounded, streaming run with exactly one result per token.

The input is pulled only as results are handed out, so at most ``concurrency`` tokens are held
at any time and 10^6 tokens from a generator use the memory of 10^3. Each token's call keeps its
own retries and deadline; one Item's failure is its result, never another's.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    Awaitable,
    Callable,
    Iterable,
)
from typing import Any

from attrs import define, field, frozen

from ._redact import short_fingerprint
from .errors import PlaidError
from .models import AccountsGetResponse

__all__ = ["BatchProgress", "BatchSummary", "ItemResult", "PlaidInputError", "run_many"]

Call = Callable[[str, Callable[[], None]], Awaitable[AccountsGetResponse]]
"""One token's call: ``call(access_token, on_retry)``."""


class PlaidInputError(PlaidError):
    """A token in a batch's input that could not be sent (not a string, empty, whitespace).

    The single-call methods raise ``ValueError``/``TypeError`` for these; a batch turns them
    into this error on the token's own result, so the run goes on. The original is
    ``__cause__``.
    """


@frozen
class ItemResult:
    """The outcome for one input token: ``response`` if ``ok``, else ``error``."""

    index: int  # the token's position in the input
    access_token: str = field(repr=short_fingerprint)
    response: AccountsGetResponse | None
    error: PlaidError | None
    attempts: int = 1
    elapsed: float = 0.0  # seconds from the first attempt to the outcome

    @property
    def ok(self) -> bool:
        return self.error is None


@define
class BatchProgress:
    """Live counts for a progress bar, updated as the run goes; read them, do not set them."""

    started: int = 0
    done: int = 0
    ok: int = 0
    failed: int = 0
    retried: int = 0  # retries so far, over all tokens

    @property
    def in_flight(self) -> int:
        return self.started - self.done


@define
class BatchSummary:
    """Counts by outcome and by ``error_code``, and latency: ``summary.add(result)`` for each."""

    total: int = 0
    ok: int = 0
    failed: int = 0
    retried: int = 0  # results that needed more than one attempt
    by_error_code: Counter[str] = field(factory=Counter)
    _elapsed: list[float] = field(factory=list, repr=False)

    def add(self, result: ItemResult) -> None:
        self.total += 1
        self._elapsed.append(result.elapsed)
        if result.attempts > 1:
            self.retried += 1
        if result.ok:
            self.ok += 1
            return
        self.failed += 1
        self.by_error_code[error_code_of(result.error)] += 1

    def latency(self, quantile: float) -> float:
        """The ``quantile`` (0 to 1) of per-token elapsed seconds; 0 with no results."""
        if not self._elapsed:
            return 0.0
        if len(self._elapsed) == 1:
            return self._elapsed[0]
        cuts = statistics.quantiles(self._elapsed, n=1000, method="inclusive")
        return cuts[min(len(cuts) - 1, max(0, round(quantile * 1000) - 1))]

    @classmethod
    def of(cls, results: Iterable[ItemResult]) -> BatchSummary:
        summary = cls()
        for result in results:
            summary.add(result)
        return summary


def error_code_of(error: BaseException | None) -> str:
    """A short name for a failure: Plaid's ``error_code``, else the exception's class name."""
    code = getattr(error, "error_code", None)
    return str(code) if code else type(error).__name__


async def _tokens(source: Iterable[str] | AsyncIterable[str]) -> AsyncGenerator[str, None]:
    if isinstance(source, AsyncIterable):
        async for token in source:
            yield token
    else:
        for token in source:
            yield token


async def run_many(
    call: Call,
    tokens: Iterable[str] | AsyncIterable[str],
    *,
    concurrency: int,
    on_progress: Callable[[BatchProgress], object] | None = None,
) -> AsyncGenerator[ItemResult, None]:
    """Run ``call`` for every token, at most ``concurrency`` at once, yielding in completion
    order. Leaving early (``break``, an exception, cancellation) cancels what is in flight;
    wrap the iteration in ``contextlib.aclosing`` to have that happen at once."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int):
        raise TypeError(f"concurrency must be an int, not {type(concurrency).__name__}")
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    if isinstance(tokens, str | bytes):
        raise TypeError("tokens must be an iterable of access tokens, not a single string")
    progress = BatchProgress()
    source = _tokens(tokens)
    finished: asyncio.Queue[asyncio.Task[ItemResult]] = asyncio.Queue()
    pending: set[asyncio.Task[ItemResult]] = set()
    exhausted = False

    def retried() -> None:
        progress.retried += 1
        if on_progress is not None:
            on_progress(progress)

    try:
        while True:
            while not exhausted and len(pending) < concurrency:
                try:
                    token = await source.__anext__()
                except StopAsyncIteration:
                    exhausted = True
                    break
                task = asyncio.create_task(_run_one(call, progress.started, token, retried))
                task.add_done_callback(finished.put_nowait)
                pending.add(task)
                progress.started += 1
            if not pending:
                return
            task = await finished.get()
            pending.discard(task)
            result = task.result()  # only a bug in the caller's code raises here
            progress.done += 1
            if result.ok:
                progress.ok += 1
            else:
                progress.failed += 1
            if on_progress is not None:
                on_progress(progress)
            yield result
    finally:
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        await source.aclose()


async def _run_one(call: Call, index: int, token: Any, on_retry: Callable[[], None]) -> ItemResult:
    attempts = 1

    def count_retry() -> None:
        nonlocal attempts
        attempts += 1
        on_retry()

    start = time.monotonic()
    response: AccountsGetResponse | None = None
    error: PlaidError | None = None
    try:
        response = await call(token, count_retry)
    except PlaidError as exc:
        error = exc
    except (TypeError, ValueError) as exc:
        error = PlaidInputError(f"input #{index} is not a usable access token: {exc}")
        error.__cause__ = exc
        token = token if isinstance(token, str) else repr(token)
    return ItemResult(index, token, response, error, attempts, time.monotonic() - start)
