"""Retries, timeouts and the deadline, against the emulator on real sockets.

Each test scripts the emulator's next answers with ``enqueue`` and counts what reached it.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from plaid_async import (
    APIError,
    InstitutionError,
    ItemError,
    PlaidClient,
    PlaidConnectionError,
    PlaidResponseError,
    PlaidTimeoutError,
    RateLimitExceededError,
    RetryPolicy,
)
from plaid_async.sandbox import SandboxServer

FAST = RetryPolicy(max_attempts=3, wait_initial=0.001, wait_max=0.005)
BALANCE = "/accounts/balance/get"
GET = "/accounts/get"


def make_client(sandbox: SandboxServer, **kwargs: Any) -> PlaidClient:
    kwargs.setdefault("retry", FAST)
    return sandbox.client(**kwargs)


def attempts(sandbox: SandboxServer, path: str = BALANCE) -> int:
    return sandbox.stats.by_path.get(path, 0)


@pytest.mark.parametrize(
    "fault",
    [
        "500",  # API_ERROR/INTERNAL_SERVER_ERROR
        "502",  # an nginx HTML page
        "503",
        "maintenance",  # API_ERROR/PLANNED_MAINTENANCE
        "429",  # RATE_LIMIT_EXCEEDED
        "reset",  # the connection closed with no answer
        "truncate",  # a 200 whose JSON is cut short
        "short_read",  # a 200 that promised more bytes than it sent
        "PRODUCT_NOT_READY",
    ],
)
async def test_a_transient_failure_is_retried(plaid_sandbox: SandboxServer, fault: str) -> None:
    plaid_sandbox.enqueue(fault, fault, "ok")
    async with make_client(plaid_sandbox) as client:
        resp = await client.accounts_balance_get(plaid_sandbox.token(1))
    assert resp.accounts
    assert attempts(plaid_sandbox) == 3


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("500", APIError),
        ("502", PlaidResponseError),
        ("429", RateLimitExceededError),
        ("reset", PlaidConnectionError),
        ("truncate", PlaidResponseError),
    ],
)
async def test_the_last_error_is_raised_when_attempts_run_out(
    plaid_sandbox: SandboxServer, fault: str, error: type[Exception]
) -> None:
    plaid_sandbox.enqueue(fault, fault, fault)
    async with make_client(plaid_sandbox) as client:
        with pytest.raises(error):
            await client.accounts_balance_get(plaid_sandbox.token(1))
    assert attempts(plaid_sandbox) == 3


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("ITEM_LOGIN_REQUIRED", ItemError),
        ("ITEM_LOCKED", ItemError),
        ("INSTITUTION_DOWN", InstitutionError),
        ("INSTITUTION_NOT_RESPONDING", InstitutionError),
    ],
)
async def test_errors_that_need_a_person_are_not_retried(
    plaid_sandbox: SandboxServer, code: str, error: type[Exception]
) -> None:
    async with make_client(plaid_sandbox) as client:
        with pytest.raises(error) as info:
            await client.accounts_balance_get(plaid_sandbox.error_token(code))
    assert getattr(info.value, "error_code", None) == code
    assert attempts(plaid_sandbox) == 1


async def test_an_item_put_in_error_at_run_time(plaid_sandbox: SandboxServer) -> None:
    token = plaid_sandbox.token(2)
    async with make_client(plaid_sandbox) as client:
        await client.accounts_get(token)
        plaid_sandbox.set_item_error(token, "ITEM_LOGIN_REQUIRED")
        with pytest.raises(ItemError, match="ITEM_LOGIN_REQUIRED"):
            await client.accounts_get(token)
        plaid_sandbox.clear_item_error(token)
        await client.accounts_get(token)


async def test_a_per_call_timeout_bounds_each_attempt(plaid_sandbox: SandboxServer) -> None:
    plaid_sandbox.enqueue("hang", "hang", "hang")
    async with make_client(plaid_sandbox) as client:
        start = time.monotonic()
        with pytest.raises(PlaidTimeoutError) as info:
            await client.accounts_balance_get(plaid_sandbox.token(1), timeout=0.2)
        elapsed = time.monotonic() - start
    assert info.value.timeout == 0.2
    assert attempts(plaid_sandbox) == 3
    assert 0.6 <= elapsed < 1.5


async def test_per_endpoint_timeouts(plaid_sandbox: SandboxServer) -> None:
    plaid_sandbox.update_faults(latency=0.3)
    timeouts = {GET: 0.1, BALANCE: 2.0}
    async with make_client(
        plaid_sandbox, timeouts=timeouts, retry=RetryPolicy(max_attempts=1)
    ) as c:
        await c.accounts_balance_get(plaid_sandbox.token(1))  # 0.3 s is within 2 s
        with pytest.raises(PlaidTimeoutError) as info:
            await c.accounts_get(plaid_sandbox.token(1))  # but not within 0.1 s
    assert info.value.timeout == 0.1


async def test_retry_on_timeout_can_be_turned_off(plaid_sandbox: SandboxServer) -> None:
    """A timed-out balance call may have been billed: with retry_timeouts off, it is not sent
    again."""
    plaid_sandbox.enqueue("hang", "ok")
    retry = RetryPolicy(wait_initial=0.001, wait_max=0.001, retry_timeouts=False)
    async with make_client(plaid_sandbox, retry=retry) as client:
        with pytest.raises(PlaidTimeoutError):
            await client.accounts_balance_get(plaid_sandbox.token(1), timeout=0.2)
    assert attempts(plaid_sandbox) == 1


async def test_the_deadline_bounds_the_whole_call(plaid_sandbox: SandboxServer) -> None:
    plaid_sandbox.enqueue(*["hang"] * 10)
    retry = RetryPolicy(max_attempts=10, wait_initial=0.001, wait_max=0.001, deadline=0.5)
    async with make_client(plaid_sandbox, retry=retry) as client:
        start = time.monotonic()
        with pytest.raises(PlaidTimeoutError, match="deadline") as info:
            await client.accounts_balance_get(plaid_sandbox.token(1), timeout=0.3)
        elapsed = time.monotonic() - start
    assert info.value.timeout == 0.5
    assert 0.45 <= elapsed < 0.8
    assert attempts(plaid_sandbox) == 2  # 0.3 s, then the 0.2 s that was left


async def test_a_dripping_server_cannot_hold_a_call(plaid_sandbox: SandboxServer) -> None:
    """One byte every 50 ms never ends a read timeout, but the attempt's total does."""
    plaid_sandbox.update_faults(rate_drip=1.0, drip_interval=0.05)
    retry = RetryPolicy(max_attempts=2, wait_initial=0.001, wait_max=0.001)
    async with make_client(plaid_sandbox, retry=retry) as client:
        start = time.monotonic()
        with pytest.raises(PlaidTimeoutError):
            await client.accounts_get(plaid_sandbox.token(1), timeout=0.3)
        elapsed = time.monotonic() - start
    assert 0.6 <= elapsed < 1.2


async def test_a_body_over_the_cap_is_an_error_and_not_retried(
    plaid_sandbox: SandboxServer,
) -> None:
    async with make_client(plaid_sandbox, max_response_bytes=256) as client:
        with pytest.raises(PlaidResponseError, match="256 byte cap") as info:
            await client.accounts_get(plaid_sandbox.token(1))
    assert info.value.status == 200
    assert not info.value.transient
    assert attempts(plaid_sandbox, GET) == 1


async def test_the_response_is_plaids(plaid_sandbox: SandboxServer) -> None:
    token = plaid_sandbox.token(3)
    expected = plaid_sandbox.item(token)
    async with make_client(plaid_sandbox) as client:
        resp = await client.accounts_balance_get(token)
        ids = [a.account_id for a in resp.accounts]
        assert ids == list(expected.account_ids)
        only = await client.accounts_balance_get(token, account_ids=ids[:1])
    assert [a.account_id for a in only.accounts] == ids[:1]
    assert resp.item is not None
    assert resp.item.item_id
