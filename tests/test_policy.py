"""RetryPolicy: which failures retry, the backoff, the deadline, the log line. No network."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest

from plaid_async import (
    PlaidConnectionError,
    PlaidError,
    PlaidResponseError,
    PlaidTimeoutError,
    RetryPolicy,
)
from plaid_async.deadline import Deadline
from plaid_async.policy import RETRY_AFTER_CAP, is_transient
from plaid_async.protocol import error_from_response
from tests.samples import error_doc


def api_error(error_type: str, error_code: str, status: int = 400) -> PlaidError:
    return error_from_response(status, {}, json.dumps(error_doc(error_type, error_code)).encode())


RETRIED = [
    api_error("API_ERROR", "INTERNAL_SERVER_ERROR", 500),
    api_error("API_ERROR", "PLANNED_MAINTENANCE", 503),
    api_error("RATE_LIMIT_EXCEEDED", "RATE_LIMIT", 429),
    api_error("RATE_LIMIT_EXCEEDED", "ACCOUNTS_LIMIT", 429),
    api_error("RATE_LIMIT_EXCEEDED", "BALANCE_LIMIT", 429),
    api_error("RATE_LIMIT_EXCEEDED", "ACCOUNTS_BALANCE_GET_LIMIT", 429),
    api_error("RATE_LIMIT_EXCEEDED", "INSTITUTION_RATE_LIMIT", 429),
    api_error("ITEM_ERROR", "PRODUCT_NOT_READY", 400),
    api_error("SOME_FUTURE_ERROR", "NEW_OUTAGE", 502),
    error_from_response(502, {}, b"<html>bad gateway</html>"),
    PlaidConnectionError("reset"),
    PlaidResponseError("cut short", status=200, transient=True),
    PlaidTimeoutError("slow", timeout=1.0),
]
NEVER_RETRIED = [
    api_error("ITEM_ERROR", "ITEM_LOGIN_REQUIRED"),
    api_error("ITEM_ERROR", "ITEM_LOCKED"),
    api_error("ITEM_ERROR", "PRODUCTS_NOT_SUPPORTED"),
    api_error("ITEM_ERROR", "NO_ACCOUNTS"),
    api_error("INVALID_INPUT", "INVALID_ACCESS_TOKEN"),
    api_error("INVALID_INPUT", "INVALID_API_KEYS"),
    api_error("INVALID_REQUEST", "UNKNOWN_FIELDS"),
    api_error("INVALID_RESULT", "LAST_UPDATED_DATETIME_OUT_OF_RANGE"),
    api_error("INSTITUTION_ERROR", "INSTITUTION_DOWN"),
    api_error("INSTITUTION_ERROR", "INSTITUTION_NOT_RESPONDING"),
    api_error("INSTITUTION_ERROR", "INSTITUTION_NOT_RESPONDING", 500),  # never, even as a 5xx
    api_error("RATE_LIMIT_EXCEEDED", "CREDITS_EXHAUSTED", 429),
    api_error("SOME_FUTURE_ERROR", "SOMETHING", 400),
    error_from_response(400, {}, b"<html>bad request</html>"),
    PlaidResponseError("does not fit the schema", status=200, transient=False),
    PlaidConnectionError("certificate did not verify", transient=False),
    ValueError("a bug in the caller's code"),
    asyncio.CancelledError(),
    KeyboardInterrupt(),
]


@pytest.mark.parametrize("exc", RETRIED, ids=repr)
def test_transient_failures_are_retried(exc: BaseException) -> None:
    assert is_transient(exc)


@pytest.mark.parametrize("exc", NEVER_RETRIED, ids=repr)
def test_other_failures_are_never_retried(exc: BaseException) -> None:
    assert not is_transient(exc)


def test_timeouts_can_be_excluded() -> None:
    timeout = PlaidTimeoutError("slow", timeout=1.0)
    assert not RetryPolicy(retry_timeouts=False).should_retry(timeout)
    # A connection that never opened reached no server: still retried.
    assert RetryPolicy(retry_timeouts=False).should_retry(PlaidConnectionError("refused"))


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"max_attempts": 0}, ValueError),
        ({"max_attempts": 2.5}, TypeError),
        ({"max_attempts": True}, TypeError),
        ({"wait_initial": -1}, ValueError),
        ({"wait_max": float("inf")}, TypeError),
        ({"wait_initial": 2, "wait_max": 1}, ValueError),
        ({"deadline": 0}, ValueError),
        ({"deadline": -5}, ValueError),
        ({"deadline": float("nan")}, TypeError),
        ({"deadline": "30"}, TypeError),
    ],
)
def test_bad_policy_values_fail_in_the_constructor(
    kwargs: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_defaults_are_bounded() -> None:
    policy = RetryPolicy()
    assert policy.max_attempts == 3
    assert (policy.wait_initial, policy.wait_max) == (0.5, 8.0)
    assert policy.deadline == 120.0


def test_backoff_is_full_jitter_within_an_exponential_window() -> None:
    policy = RetryPolicy(wait_initial=0.5, wait_max=8.0)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (5, 8.0), (10, 8.0), (500, 8.0)]:
        waits = [policy.backoff(attempt) for _ in range(300)]
        assert all(0.0 <= w <= ceiling for w in waits)
        assert max(waits) > ceiling * 0.8  # the window is used, not just its start
        assert min(waits) < ceiling * 0.2


class Attempts:
    """An attempt function that fails with the given errors, then succeeds."""

    def __init__(self, *failures: BaseException, delay: float = 0.0) -> None:
        self.failures = list(failures)
        self.delay = delay
        self.calls = 0
        self.time_left: list[float | None] = []

    async def __call__(self, deadline: Deadline) -> str:
        self.calls += 1
        self.time_left.append(deadline.remaining())
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


FAST = RetryPolicy(max_attempts=3, wait_initial=0.001, wait_max=0.001)


async def test_retries_until_success() -> None:
    attempts = Attempts(RETRIED[0], RETRIED[2])
    assert await FAST.call(attempts, endpoint="/accounts/get") == "ok"
    assert attempts.calls == 3


async def test_max_attempts_bounds_the_tries_and_the_last_error_is_raised() -> None:
    last = PlaidConnectionError("third")
    attempts = Attempts(PlaidConnectionError("1"), PlaidConnectionError("2"), last)
    with pytest.raises(PlaidConnectionError) as info:
        await FAST.call(attempts, endpoint="/accounts/get")
    assert info.value is last
    assert attempts.calls == 3


async def test_max_attempts_one_turns_retries_off() -> None:
    attempts = Attempts(PlaidConnectionError("once"))
    with pytest.raises(PlaidConnectionError):
        await RetryPolicy(max_attempts=1).call(attempts, endpoint="/accounts/get")
    assert attempts.calls == 1


@pytest.mark.parametrize("exc", [*NEVER_RETRIED[:4], ValueError("bug")], ids=repr)
async def test_permanent_failures_are_raised_at_once(exc: Exception) -> None:
    attempts = Attempts(exc)
    with pytest.raises(type(exc)):
        await FAST.call(attempts, endpoint="/accounts/get")
    assert attempts.calls == 1


async def test_no_attempt_starts_after_the_deadline() -> None:
    policy = RetryPolicy(max_attempts=100, wait_initial=0.05, wait_max=0.05, deadline=0.3)
    attempts = Attempts(*[PlaidConnectionError(str(i)) for i in range(100)], delay=0.05)
    start = time.monotonic()
    with pytest.raises(PlaidConnectionError):
        await policy.call(attempts, endpoint="/accounts/get")
    elapsed = time.monotonic() - start
    assert elapsed < 0.3 + 0.05 + 0.05  # at most one attempt's length over, never a sleep
    assert 2 <= attempts.calls <= 6
    left = [t for t in attempts.time_left if t is not None]
    assert left == sorted(left, reverse=True)  # each attempt is told the time that is left
    assert all(t > 0 for t in left)


async def test_retry_after_is_honoured_and_capped() -> None:
    body = json.dumps(error_doc("RATE_LIMIT_EXCEEDED", "RATE_LIMIT")).encode()
    limited = error_from_response(429, {"Retry-After": "0.2"}, body)
    attempts = Attempts(limited)
    start = time.monotonic()
    assert await FAST.call(attempts, endpoint="/accounts/get") == "ok"
    assert time.monotonic() - start >= 0.2
    huge = error_from_response(429, {"Retry-After": "100000"}, body)
    assert RETRY_AFTER_CAP == 60.0
    # Past the deadline, a long Retry-After stops the retries instead of sleeping through it.
    attempts = Attempts(huge)
    with pytest.raises(type(huge)):
        await RetryPolicy(deadline=5).call(attempts, endpoint="/accounts/get")
    assert attempts.calls == 1


async def test_cancellation_is_neither_retried_nor_swallowed() -> None:
    attempts = Attempts(delay=10)
    task = asyncio.create_task(FAST.call(attempts, endpoint="/accounts/get"))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert attempts.calls == 1


async def test_one_warning_per_retry_with_what_support_needs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    attempts = Attempts(api_error("API_ERROR", "INTERNAL_SERVER_ERROR", 500), RETRIED[-1])
    with caplog.at_level(logging.DEBUG, logger="plaid_async"):
        await FAST.call(attempts, endpoint="/accounts/balance/get")
    records = [r for r in caplog.records if r.name == "plaid_async"]
    assert [r.levelno for r in records] == [logging.WARNING, logging.WARNING]
    first, second = (r.getMessage() for r in records)
    assert first.startswith("retrying /accounts/balance/get in ")
    assert "attempt 1 of 3 failed with API_ERROR/INTERNAL_SERVER_ERROR" in first
    assert "request_id=req-internal_server_error" in first
    assert "attempt 2 of 3 failed with PlaidTimeoutError" in second
    assert records[0].__dict__["plaid_error_code"] == "INTERNAL_SERVER_ERROR"
    assert records[0].__dict__["plaid_attempt"] == 1
