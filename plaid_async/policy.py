"""Which failures are retried, how long to wait between tries, and when to give up.

Defaults, and why:

- ``max_attempts=3``: two retries, as openai-python and anthropic-sdk-python do. Plaid's
  transient failures (a 5xx, a 429, ``PRODUCT_NOT_READY``, a dropped keep-alive connection)
  clear in seconds or not at all; a fourth try rarely helps and always costs.
- ``wait_initial=0.5``, ``wait_max=8.0``: full jitter, the n-th wait drawn uniformly from
  ``[0, min(wait_max, wait_initial * 2**(n-1))]`` (the same 0.5 to 8 s window as openai-python;
  the jitter spreads a batch's retries instead of sending them back in lockstep).
- ``deadline=120.0``: no attempt starts, and none runs on, past two minutes from the call's
  start. It bounds the whole call: with two 60 s balance attempts that is the longest a caller
  waits, where an unanchored client can wait attempts times timeout plus the sleeps.
- ``retry_timeouts=True``: a timed-out attempt is retried. Plaid bills a successful
  ``/accounts/balance/get`` even when we stopped waiting for it, so a retry may bill twice;
  set it to False to trade that for fewer successes.

Retried: HTTP 5xx (with or without Plaid's error body), ``RATE_LIMIT_EXCEEDED``/429 (not
``CREDITS_EXHAUSTED``), ``PRODUCT_NOT_READY``, connection failures, a 2xx body cut short or not
JSON, and timeouts. Never retried: ``ITEM_ERROR`` codes that need the user, ``INVALID_*``,
``INSTITUTION_*`` (Plaid says to retry those in hours), a body that breaks the schema, and
anything that is not a :class:`~plaid_async.PlaidError` — cancellation above all.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from attrs import field, frozen
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
)
from tenacity.stop import stop_base

from ._checks import check_bool, check_positive_int, check_seconds, validator
from .deadline import Deadline
from .errors import (
    PlaidAPIError,
    PlaidConnectionError,
    PlaidResponseError,
    PlaidTimeoutError,
)

__all__ = [
    "RETRY_AFTER_CAP",
    "RETRY_LATER_CODES",
    "RetryPolicy",
    "is_institution_outage",
    "is_transient",
]

log = logging.getLogger("plaid_async")
log.addHandler(logging.NullHandler())  # a library logs; the application decides where to

RETRY_AFTER_CAP = 60.0
"""The longest a server's ``Retry-After`` can make us wait, in seconds."""

_NEVER_RETRIED_TYPES = frozenset(
    {"ITEM_ERROR", "INVALID_REQUEST", "INVALID_INPUT", "INVALID_RESULT", "INSTITUTION_ERROR"}
)
_RETRIED_ITEM_CODES = frozenset({"PRODUCT_NOT_READY"})
_NEVER_RETRIED_RATE_CODES = frozenset({"CREDITS_EXHAUSTED"})

T = TypeVar("T")


def is_transient(exc: BaseException, *, retry_timeouts: bool = True) -> bool:
    """Whether Plaid says ``exc`` may clear on its own within seconds."""
    if isinstance(exc, PlaidAPIError):
        error_type = str(exc.error_type)
        if error_type in _NEVER_RETRIED_TYPES:
            return exc.error_code in _RETRIED_ITEM_CODES
        if error_type == "RATE_LIMIT_EXCEEDED" or exc.status == 429:
            return exc.error_code not in _NEVER_RETRIED_RATE_CODES
        return exc.status >= 500
    if isinstance(exc, PlaidTimeoutError):
        return retry_timeouts
    if isinstance(exc, PlaidConnectionError | PlaidResponseError):
        return exc.transient
    return False


RETRY_LATER_CODES = frozenset(
    {"INSTITUTION_DOWN", "INSTITUTION_NOT_RESPONDING", "INSTITUTION_NOT_AVAILABLE"}
)
"""Institution errors Plaid says to retry "in a few hours, or the following day"."""


def is_institution_outage(exc: BaseException) -> bool:
    """Whether ``exc`` is an institution outage: not retried within a call (it lasts hours),
    but worth another try later, by a re-run of a refresh or a redelivery of a message."""
    return (
        isinstance(exc, PlaidAPIError)
        and str(exc.error_type) == "INSTITUTION_ERROR"
        and exc.error_code in RETRY_LATER_CODES
    )


@frozen
class RetryPolicy:
    """How a call retries: bounded in count and in time, always jittered.

    ``RetryPolicy(max_attempts=1)`` turns retries off. ``deadline=None`` leaves only the
    per-attempt timeouts and ``max_attempts`` as bounds.
    """

    max_attempts: int = field(default=3, validator=validator(check_positive_int))
    wait_initial: float = field(default=0.5, validator=validator(check_seconds, allow_zero=True))
    wait_max: float = field(default=8.0, validator=validator(check_seconds, allow_zero=True))
    deadline: float | None = field(
        default=120.0, validator=validator(check_seconds, allow_none=True)
    )
    retry_timeouts: bool = field(default=True, validator=validator(check_bool))

    def __attrs_post_init__(self) -> None:
        if self.wait_max < self.wait_initial:
            raise ValueError("wait_max must not be less than wait_initial")

    def should_retry(self, exc: BaseException) -> bool:
        return is_transient(exc, retry_timeouts=self.retry_timeouts)

    def backoff(self, attempt: int) -> float:
        """The wait after the ``attempt``-th failure (1-based): full jitter."""
        check_positive_int("attempt", attempt)
        ceiling = min(self.wait_max, self.wait_initial * 2.0 ** min(attempt - 1, 64))
        return random.uniform(0.0, ceiling)  # noqa: S311 - jitter, not cryptography

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return float(min(retry_after, RETRY_AFTER_CAP))
        return self.backoff(state.attempt_number)

    async def call(
        self,
        attempt: Callable[[Deadline], Awaitable[T]],
        *,
        endpoint: str,
        on_retry: Callable[[], object] | None = None,
        deadline: Deadline | None = None,
        on_retry_scheduled: Callable[[float, BaseException | None], object] | None = None,
    ) -> T:
        """Run ``attempt`` until it succeeds, fails for good, or the policy says stop.

        ``attempt`` is given the call's :class:`~plaid_async.deadline.Deadline` (made here from
        ``self.deadline`` unless the caller started it earlier), so that no attempt runs on
        past it. Before each retry, ``on_retry()`` and ``on_retry_scheduled(wait, error)`` are
        called.

        The first attempt runs directly: most calls succeed at once, and building tenacity's
        machinery costs more than a loopback request's own overhead. Only a first failure that
        may be retried hands over to tenacity, which replays it as its own first attempt and
        goes on exactly as if it had run from the start (the deadline counts from the call's
        start, not from the hand-over).
        """
        if deadline is None:
            deadline = Deadline(self.deadline)
        try:
            return await attempt(deadline)
        except Exception as exc:  # never BaseException: cancellation is not a failure
            if not self.retries(exc):
                raise
            failure = exc
        return await self.retry_after(
            failure,
            attempt,
            endpoint=endpoint,
            on_retry=on_retry,
            deadline=deadline,
            on_retry_scheduled=on_retry_scheduled,
        )

    def retries(self, exc: BaseException) -> bool:
        """Whether a first attempt that failed with ``exc`` is tried again."""
        return self.max_attempts > 1 and self.should_retry(exc)

    async def retry_after(
        self,
        failure: Exception,
        attempt: Callable[[Deadline], Awaitable[T]],
        *,
        endpoint: str,
        on_retry: Callable[[], object] | None,
        deadline: Deadline,
        on_retry_scheduled: Callable[[float, BaseException | None], object] | None = None,
    ) -> T:
        """Go on after a first attempt that failed with ``failure`` (one that :meth:`retries`):
        tenacity replays it as its own first attempt, then retries as the policy says.

        Apart from :meth:`call` so that a call's first attempt (most calls' only one) makes
        none of the closures below: they and their cells would live as long as the call.
        """
        first: Exception | None = failure

        async def run() -> T:
            nonlocal first
            if first is not None:
                replayed, first = first, None
                raise replayed
            return await attempt(deadline)

        stop: stop_base = stop_after_attempt(self.max_attempts)
        if deadline.at is not None:
            stop = stop | _StopBeforeDeadline(deadline)
        retrying = AsyncRetrying(
            stop=stop,
            wait=self._wait,
            retry=retry_if_exception(self.should_retry),
            before_sleep=lambda state: _before_retry(
                state, endpoint, self.max_attempts, on_retry, on_retry_scheduled
            ),
            reraise=True,
        )
        return await retrying(run)


class _StopBeforeDeadline(stop_base):
    """tenacity's ``stop_before_delay``, against the call's own deadline (which started before
    tenacity's clock when the first attempt ran outside it): stop if the coming sleep would
    end past the deadline."""

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline

    def __call__(self, retry_state: RetryCallState) -> bool:
        if retry_state.outcome_timestamp is None:
            raise RuntimeError("the stop condition was checked before an attempt ended")
        return self.deadline.ends_by(retry_state.outcome_timestamp + retry_state.upcoming_sleep)


def _before_retry(
    state: RetryCallState,
    endpoint: str,
    max_attempts: int,
    on_retry: Callable[[], object] | None,
    on_retry_scheduled: Callable[[float, BaseException | None], object] | None = None,
) -> None:
    """One WARNING per retry: endpoint, attempt, wait, error code, request_id. Nothing else,
    and never the call's arguments (they hold the access token)."""
    if on_retry is not None:
        on_retry()
    exc = state.outcome.exception() if state.outcome else None
    wait = state.upcoming_sleep
    if on_retry_scheduled is not None:
        on_retry_scheduled(wait, exc)
    if isinstance(exc, PlaidAPIError):
        reason = f"{exc.error_type}/{exc.error_code}"
        request_id = exc.request_id
    else:
        reason = type(exc).__name__
        request_id = None
    log.warning(
        "retrying %s in %.2f s: attempt %d of %d failed with %s (request_id=%s)",
        endpoint,
        wait,
        state.attempt_number,
        max_attempts,
        reason,
        request_id,
        extra={
            "plaid_endpoint": endpoint,
            "plaid_attempt": state.attempt_number,
            "plaid_wait": wait,
            "plaid_error_code": getattr(exc, "error_code", None),
            "plaid_request_id": request_id,
        },
    )
