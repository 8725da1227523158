"""Many Items at once: a lazy, bounded, streaming run with exactly one result per token.

The input is pulled only as results are handed out, so at most ``concurrency`` tokens are held
at any time and 10^6 tokens from a generator use the memory of 10^3. Each token's call keeps its
own retries and deadline; one Item's failure is its result, never another's.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import Counter
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
)
from typing import Any

from attrs import define, field, frozen

from ._checks import check_callable, check_instance, check_positive_int
from ._latency import LatencySketch
from ._redact import short_fingerprint
from .errors import PlaidError, PlaidInputError
from .models import AccountsGetResponse

__all__ = [
    "BatchProgress",
    "BatchSummary",
    "ItemResult",
    "PlaidInputError",
    "check_concurrency",
    "run_many",
]

Call = Callable[[str, Callable[[], None]], Awaitable[AccountsGetResponse]]
"""One token's call: ``call(access_token, on_retry)``. It checks the token when called, raising
``TypeError``/``ValueError`` before it returns the awaitable, so a bad token is told apart from
a bug (which is raised from the awaitable)."""


@frozen
class ItemResult:
    """The outcome for one input token: ``response`` if ``ok``, else ``error``."""

    index: int  # the token's position in the input
    access_token: str = field(repr=short_fingerprint)
    response: AccountsGetResponse | None
    error: PlaidError | None
    attempts: int = 1  # tries: 1 plus the retries begun (one the deadline ended while it
    # waited for rate-limit budget counts, though it sent nothing; CallEnded.attempts does not)
    elapsed: float = 0.0  # seconds from the token's start (rate-limit wait included) to its outcome

    @property
    def ok(self) -> bool:
        return self.error is None


@define
class BatchProgress:
    """Live counts for a progress bar, updated as the run goes; read them, do not set them.

    ``done`` counts results handed out (``ok`` + ``failed``); ``in_flight`` the tokens started
    and not yet handed out (calls running, or finished and waiting to be read; on leaving early,
    those abandoned); ``retried`` the retries so far over all tokens; ``started`` the tokens
    taken from the input.
    """

    started: int = 0
    done: int = 0
    ok: int = 0
    failed: int = 0
    retried: int = 0

    @property
    def in_flight(self) -> int:
        return self.started - self.done


@define
class BatchSummary:
    """Counts by outcome and by ``error_code``, and latency: ``summary.add(result)`` for each.

    Its size does not grow with the number of results: latency quantiles come from a
    histogram accurate to 1%.
    """

    total: int = 0
    ok: int = 0
    failed: int = 0
    retried: int = 0  # results that needed more than one attempt
    by_error_code: Counter[str] = field(factory=Counter)
    _latency: LatencySketch = field(factory=LatencySketch, repr=False, eq=False)

    def add(self, result: ItemResult) -> None:
        check_instance("result", result, ItemResult)
        self.total += 1
        self._latency.add(result.elapsed)
        if result.attempts > 1:
            self.retried += 1
        if result.ok:
            self.ok += 1
            return
        self.failed += 1
        self.by_error_code[error_code_of(result.error)] += 1

    def latency(self, quantile: float) -> float:
        """The ``quantile`` (0 to 1) of per-token elapsed seconds, within 1%; 0 with none."""
        return self._latency.quantile(quantile)

    @classmethod
    def of(cls, results: Iterable[ItemResult]) -> BatchSummary:
        check_instance("results", results, Iterable, "an iterable of ItemResult")
        summary = cls()
        for result in results:
            summary.add(result)
        return summary


def error_code_of(error: BaseException | None) -> str:
    """A short name for a failure: Plaid's ``error_code``, else the exception's class name."""
    code = getattr(error, "error_code", None)
    return str(code) if code else type(error).__name__


def check_concurrency(concurrency: object) -> int:
    return check_positive_int("concurrency", concurrency)


def run_many(
    call: Call,
    tokens: Iterable[str] | AsyncIterable[str],
    *,
    concurrency: int,
    on_progress: Callable[[BatchProgress], object] | None = None,
) -> AsyncGenerator[ItemResult, None]:
    """Run ``call`` for every token, at most ``concurrency`` at once, yielding in completion
    order. The arguments are checked here, before anything runs.

    Leaving early (``break``, an exception, cancellation) cancels what is in flight and takes
    no more tokens; wrap the iteration in ``contextlib.aclosing`` to have that happen at once.
    An async generator given as ``tokens`` is closed when the run ends.
    """
    check_callable("call", call)
    check_concurrency(concurrency)
    if isinstance(tokens, str | bytes):
        raise TypeError("tokens must be an iterable of access tokens, not a single string")
    check_instance("tokens", tokens, (Iterable, AsyncIterable), "an iterable or async iterable")
    if on_progress is not None:
        check_callable("on_progress", on_progress)
    return _stream(call, _Source(tokens), concurrency, on_progress)


async def _stream(
    call: Call,
    source: _Source,
    concurrency: int,
    on_progress: Callable[[BatchProgress], object] | None,
) -> AsyncGenerator[ItemResult, None]:
    progress = BatchProgress()
    finished: asyncio.Queue[asyncio.Task[ItemResult]] = asyncio.Queue()
    pending: set[asyncio.Task[ItemResult]] = set()  # running, or finished and not yet yielded
    exhausted = False

    def retried() -> None:
        progress.retried += 1
        if on_progress is not None:
            on_progress(progress)

    try:
        while True:
            started = progress.started
            while not exhausted and len(pending) < concurrency:
                token = await source.next()
                if token is _END:
                    exhausted = True
                    break
                task = asyncio.create_task(_run_one(call, progress.started, token, retried))
                task.add_done_callback(finished.put_nowait)
                pending.add(task)
                progress.started += 1
            if progress.started != started and on_progress is not None:
                on_progress(progress)  # so that in_flight counts the calls just started
            if not pending:
                return
            task = await finished.get()
            pending.discard(task)
            result = task.result()  # only a bug (not a PlaidError) raises here
            progress.done += 1
            if result.ok:
                progress.ok += 1
            else:
                progress.failed += 1
            if on_progress is not None:
                on_progress(progress)
            yield result
    finally:
        try:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        finally:
            await source.aclose()


_END: Any = object()


class _Source:
    """The input, pulled one token at a time; a sync iterable without an await per token."""

    def __init__(self, tokens: Iterable[str] | AsyncIterable[str]) -> None:
        self._sync: Iterator[str] | None = None
        self._async: AsyncIterator[str] | None = None
        if isinstance(tokens, AsyncIterable):
            self._async = aiter(tokens)
        else:
            self._sync = iter(tokens)

    async def next(self) -> Any:
        """The next token, or ``_END``."""
        if self._sync is not None:
            return next(self._sync, _END)
        assert self._async is not None
        try:
            return await self._async.__anext__()
        except StopAsyncIteration:
            return _END

    async def aclose(self) -> None:
        """Close an async generator now, rather than in a finalizer task after the run."""
        if self._async is not None and inspect.isasyncgen(self._async):
            await self._async.aclose()


async def _run_one(call: Call, index: int, token: Any, on_retry: Callable[[], None]) -> ItemResult:
    attempts = 1

    def count_retry() -> None:
        nonlocal attempts
        attempts += 1
        on_retry()

    loop = asyncio.get_running_loop()
    start = loop.time()
    try:
        pending = call(token, count_retry)
    except (TypeError, ValueError) as exc:  # the token, checked before anything is sent
        error = PlaidInputError(f"input #{index} is not a usable access token: {exc}")
        error.__cause__ = exc
        shown = token if isinstance(token, str) else repr(token)
        return ItemResult(index, shown, None, error, attempts, 0.0)
    try:
        response = await pending
    except PlaidError as exc:
        return ItemResult(index, token, None, exc, attempts, loop.time() - start)
    return ItemResult(index, token, response, None, attempts, loop.time() - start)
