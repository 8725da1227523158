"""The call's deadline, and the version shims the pipeline waits with."""

from __future__ import annotations

import asyncio
import time

import pytest

from plaid_async import PlaidTimeoutError
from plaid_async._compat import being_cancelled, uncancel, within
from plaid_async.deadline import Deadline


def test_no_deadline_leaves_the_attempt_timeout_alone() -> None:
    deadline = Deadline(None)
    assert deadline.remaining() is None
    assert deadline.attempt_timeout(60.0) == 60.0
    assert not deadline.ends_by(time.monotonic() + 10**9)


def test_the_attempt_timeout_is_cut_to_the_time_left() -> None:
    deadline = Deadline(5.0)
    assert deadline.attempt_timeout(1.0) == 1.0
    assert 4.9 < deadline.attempt_timeout(60.0) <= 5.0
    assert deadline.ends_by(time.monotonic() + 5.0)
    assert not deadline.ends_by(time.monotonic() + 4.0)


def test_a_deadline_ends_by_its_own_instant() -> None:
    deadline = Deadline(5.0)
    assert deadline.at is not None
    assert deadline.ends_by(deadline.at)  # "at or before"
    assert not deadline.ends_by(deadline.at - 1e-6)


def test_past_the_deadline_no_attempt_starts() -> None:
    deadline = Deadline(0.001)
    time.sleep(0.002)
    assert (deadline.remaining() or 0) < 0
    with pytest.raises(PlaidTimeoutError, match=r"^the 0\.001 s deadline passed$") as info:
        deadline.attempt_timeout(60.0)
    assert info.value.timeout == 0.001
    assert "during an attempt" in str(deadline.passed(" during an attempt"))


async def test_within_tells_finished_from_timed_out() -> None:
    assert await within(asyncio.sleep(0), 1.0)
    start = time.monotonic()
    assert not await within(asyncio.sleep(10), 0.01)
    assert time.monotonic() - start < 1.0


async def test_within_lets_the_callers_own_cancellation_through() -> None:
    task = asyncio.create_task(within(asyncio.sleep(10), 5.0))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_being_cancelled_sees_a_request_not_yet_delivered() -> None:
    task = asyncio.create_task(asyncio.sleep(10))
    await asyncio.sleep(0)
    assert not being_cancelled(task)
    task.cancel()
    assert being_cancelled(task)
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_uncancel_takes_back_one_request() -> None:
    current = asyncio.current_task()
    assert current is not None
    assert uncancel(None) == 0
    current.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.sleep(1)
    assert uncancel(current) == 0
    assert not being_cancelled(current)
