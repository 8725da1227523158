"""Latency: fixed, or shaped like Plaid's real-time balance latency (p50 3 s, p95 11 s).

The shape is tested on the draws themselves, with a seed and without sleeping; one test per
kind checks over a socket that an answer really waits (lower bounds only: a loaded machine
makes answers later, never earlier).
"""

from __future__ import annotations

import asyncio
import statistics
import time

import aiohttp
import pytest

from plaid_async.sandbox import Faults, SandboxServer
from plaid_async.sandbox.faults import PLAID_BALANCE_P50, PLAID_BALANCE_P95, FaultPlan
from tests.sandbox.helpers import assert_accounts, post, wait_in_flight

BALANCE = "/accounts/balance/get"
GET = "/accounts/get"
DRAWS = 20_000


def delays(faults: Faults, path: str = BALANCE, seed: int = 2024, n: int = DRAWS) -> list[float]:
    plan = FaultPlan(faults, seed)
    return [plan.decide(path).delay for _ in range(n)]


def quantile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def test_plaids_documented_quantiles() -> None:
    assert (PLAID_BALANCE_P50, PLAID_BALANCE_P95) == (3.0, 11.0)


@pytest.mark.parametrize("scale", [1.0, 0.01])
def test_the_plaid_shape_has_plaids_p50_and_p95_times_the_scale(scale: float) -> None:
    """With 20,000 draws the sample quantiles are within about 1 % of the true ones (standard
    errors 0.7 % at p50, 1.2 % at p95); 4 % leaves room without letting a wrong shape by."""
    drawn = delays(Faults(latency="plaid", latency_scale=scale))
    assert quantile(drawn, 50) == pytest.approx(3.0 * scale, rel=0.04)
    assert quantile(drawn, 95) == pytest.approx(11.0 * scale, rel=0.04)


def test_the_plaid_shape_has_a_long_tail() -> None:
    """Plaid: "typically less than 10 seconds, but occasionally up to 30 seconds or more"."""
    drawn = delays(Faults(latency="plaid"))
    under_10 = sum(d < 10 for d in drawn) / DRAWS
    over_30 = sum(d > 30 for d in drawn) / DRAWS
    assert 0.90 < under_10 < 0.97
    assert 0 < over_30 < 0.01
    assert min(drawn) > 0


def test_the_plaid_shape_is_for_balances_only() -> None:
    """``/accounts/get`` reads Plaid's cache: no real-time latency."""
    assert set(delays(Faults(latency="plaid"), GET)) == {0.0}


def test_the_same_seed_draws_the_same_latencies() -> None:
    faults = Faults(latency="plaid")
    assert delays(faults, seed=3, n=100) == delays(faults, seed=3, n=100)
    assert delays(faults, seed=3, n=100) != delays(faults, seed=4, n=100)


@pytest.mark.parametrize("path", [GET, BALANCE])
def test_a_fixed_latency_is_the_same_for_every_request(path: str) -> None:
    assert set(delays(Faults(latency=2.0, latency_scale=0.5), path, n=100)) == {1.0}
    assert set(delays(Faults(), path, n=100)) == {0.0}


@pytest.mark.parametrize("path", [GET, BALANCE])
async def test_a_fixed_latency_delays_the_answer(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer, path: str
) -> None:
    plaid_sandbox.set_faults(Faults(latency=2.0, latency_scale=0.1))
    start = time.monotonic()
    assert_accounts(await post(http, plaid_sandbox, path))
    assert time.monotonic() - start >= 0.19


async def test_the_plaid_shape_delays_a_balance_answer_by_its_draw(
    http: aiohttp.ClientSession,
) -> None:
    faults = Faults(latency="plaid", latency_scale=0.05)  # p50 0.15 s
    expected = FaultPlan(faults, 11).decide(BALANCE).delay
    async with SandboxServer(seed=11, faults=faults) as sandbox:
        start = time.monotonic()
        assert_accounts(await post(http, sandbox, BALANCE))
        elapsed = time.monotonic() - start
    assert 0.02 < expected < 1.0  # the seed's first draw is a usual one
    assert elapsed >= expected - 0.005


async def test_a_server_stopping_during_latency_drops_the_request(
    http: aiohttp.ClientSession,
) -> None:
    sandbox = SandboxServer(faults=Faults(latency=30.0))
    await sandbox.start()
    pending = asyncio.create_task(post(http, sandbox))
    await wait_in_flight(sandbox)
    start = time.monotonic()
    await sandbox.aclose()
    with pytest.raises((aiohttp.ClientOSError, aiohttp.ServerDisconnectedError)):
        await pending
    assert time.monotonic() - start < 10  # not the 30 s of latency
