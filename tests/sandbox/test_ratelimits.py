"""Plaid's per-Item and per-client rate limits: off by default, Plaid's numbers and codes."""

from __future__ import annotations

import aiohttp
import pytest

from plaid_async import PlaidClient, RateLimitExceededError
from plaid_async.sandbox import RateLimits, SandboxServer
from plaid_async.sandbox.ratelimits import RateLimitCounter, RateLimiter
from tests.sandbox.helpers import assert_accounts, assert_plaid_error, post

BALANCE = "/accounts/balance/get"
GET = "/accounts/get"


def test_the_presets_are_plaids_published_limits() -> None:
    """plaid-facts.md section 5: per minute, per Item and per client."""
    assert RateLimits.sandbox() == RateLimits(
        accounts_get_per_item=100,
        accounts_get_per_client=5_000,
        balance_per_item=25,
        balance_per_client=100,
        window=60.0,
    )
    assert RateLimits.production() == RateLimits(
        accounts_get_per_item=15,
        accounts_get_per_client=15_000,
        balance_per_item=5,
        balance_per_client=1_200,
        window=60.0,
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"balance_per_item": 0},
        {"balance_per_item": -1},
        {"balance_per_item": 2.5},
        {"balance_per_item": True},
        {"window": 0},
        {"window": float("inf")},
        {"window": "60"},
    ],
)
def test_bad_limits_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises((ValueError, TypeError)):
        RateLimits(**bad)  # type: ignore[arg-type]


async def test_no_limits_by_default(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer
) -> None:
    """30 balance calls on one Item in well under a minute: over Sandbox's 25, all answered."""
    assert plaid_sandbox.rate_limits is None
    token = plaid_sandbox.token(1)
    statuses = {(await post(http, plaid_sandbox, BALANCE, token=token)).status for _ in range(30)}
    assert statuses == {200}


@pytest.mark.plaid_sandbox(rate_limits=RateLimits(balance_per_item=2, balance_per_client=None))
async def test_balance_per_item_is_balance_limit(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer
) -> None:
    one, two = plaid_sandbox.token(1), plaid_sandbox.token(2)
    for _ in range(2):
        assert_accounts(await post(http, plaid_sandbox, BALANCE, token=one))
    assert_plaid_error(await post(http, plaid_sandbox, BALANCE, token=one), "BALANCE_LIMIT")
    assert_accounts(await post(http, plaid_sandbox, BALANCE, token=two))  # another Item
    assert_accounts(await post(http, plaid_sandbox, GET, token=one))  # another endpoint
    assert plaid_sandbox.stats.errors == {"BALANCE_LIMIT": 1}


@pytest.mark.plaid_sandbox(rate_limits=RateLimits(balance_per_item=None, balance_per_client=3))
async def test_balance_per_client_is_accounts_balance_get_limit(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer
) -> None:
    for n in range(3):
        assert_accounts(await post(http, plaid_sandbox, BALANCE, token=plaid_sandbox.token(n)))
    reply = await post(http, plaid_sandbox, BALANCE, token=plaid_sandbox.token(9))
    assert_plaid_error(reply, "ACCOUNTS_BALANCE_GET_LIMIT")


@pytest.mark.parametrize(
    ("limits", "tokens"),
    [
        (RateLimits(accounts_get_per_item=2, accounts_get_per_client=None), [1, 1, 1]),
        (RateLimits(accounts_get_per_item=None, accounts_get_per_client=2), [1, 2, 3]),
    ],
    ids=["per-item", "per-client"],
)
async def test_accounts_get_limits_are_accounts_limit(
    http: aiohttp.ClientSession, limits: RateLimits, tokens: list[int]
) -> None:
    async with SandboxServer(rate_limits=limits) as sandbox:
        *first, last = tokens
        for n in first:
            assert_accounts(await post(http, sandbox, GET, token=sandbox.token(n)))
        assert_plaid_error(
            await post(http, sandbox, GET, token=sandbox.token(last)), "ACCOUNTS_LIMIT"
        )


async def test_limits_can_be_set_and_lifted_at_run_time(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer
) -> None:
    token = plaid_sandbox.token(1)
    limits = RateLimits(balance_per_item=1)
    plaid_sandbox.set_rate_limits(limits)
    assert plaid_sandbox.rate_limits == limits
    assert_accounts(await post(http, plaid_sandbox, BALANCE, token=token))
    assert_plaid_error(await post(http, plaid_sandbox, BALANCE, token=token), "BALANCE_LIMIT")
    plaid_sandbox.set_rate_limits(limits)  # counting afresh
    assert_accounts(await post(http, plaid_sandbox, BALANCE, token=token))
    plaid_sandbox.set_rate_limits(None)
    assert_accounts(await post(http, plaid_sandbox, BALANCE, token=token))
    with pytest.raises(TypeError, match="must be a RateLimits"):
        plaid_sandbox.set_rate_limits({"balance_per_item": 1})  # type: ignore[arg-type]


@pytest.mark.plaid_sandbox(rate_limits=RateLimits.production())
async def test_the_client_sees_a_rate_limit_error_and_retries_it(
    plaid_sandbox: SandboxServer, plaid_client: PlaidClient
) -> None:
    token = plaid_sandbox.token(1)
    for _ in range(5):  # Production allows 5 a minute per Item
        await plaid_client.accounts_balance_get(token)
    with pytest.raises(RateLimitExceededError) as info:
        await plaid_client.accounts_balance_get(token)
    assert info.value.error_code == "BALANCE_LIMIT"
    assert plaid_sandbox.stats.errors == {"BALANCE_LIMIT": 3}  # plaid_client tries 3 times


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_window_slides() -> None:
    clock = Clock()
    limiter = RateLimitCounter(RateLimits(balance_per_item=2, window=60.0), clock)
    assert limiter.admit(BALANCE, "a") is None
    clock.now += 30
    assert limiter.admit(BALANCE, "a") is None
    assert limiter.admit(BALANCE, "a") == "BALANCE_LIMIT"
    clock.now += 30.5  # the first hit is more than a minute old
    assert limiter.admit(BALANCE, "a") is None
    assert limiter.admit(BALANCE, "a") == "BALANCE_LIMIT"


def test_refused_requests_do_not_count() -> None:
    """A client that keeps calling while limited is let in once the window has passed."""
    clock = Clock()
    limiter = RateLimitCounter(RateLimits(balance_per_item=1, window=10.0), clock)
    assert limiter.admit(BALANCE, "a") is None
    for _ in range(9):
        clock.now += 1
        assert limiter.admit(BALANCE, "a") == "BALANCE_LIMIT"
    clock.now += 1.5
    assert limiter.admit(BALANCE, "a") is None


def test_the_per_client_limit_counts_every_item() -> None:
    limiter = RateLimitCounter(RateLimits(balance_per_item=None, balance_per_client=2), Clock())
    assert limiter.admit(BALANCE, "a") is None
    assert limiter.admit(BALANCE, "b") is None
    assert limiter.admit(BALANCE, "c") == "ACCOUNTS_BALANCE_GET_LIMIT"
    assert limiter.admit(GET, "c") is None  # its own budget


def test_old_items_are_forgotten() -> None:
    """A night over many Items keeps only the last minute's counters."""
    clock = Clock()
    limiter = RateLimitCounter(RateLimits(), clock)
    for n in range(1000):
        limiter.admit(BALANCE, f"item-{n}")
    clock.now += 61
    limiter.admit(BALANCE, "late")
    assert len(limiter) == 2  # the late Item and the client's counter


def test_the_old_name_of_the_counter_still_works() -> None:
    assert RateLimiter is RateLimitCounter
