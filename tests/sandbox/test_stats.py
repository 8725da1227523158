"""The counters: requests by path and status, errors by code, faults, the most in flight."""

from __future__ import annotations

import asyncio

import aiohttp

from plaid_async.sandbox import Faults, SandboxServer, Stats
from tests.sandbox.helpers import post, wait_in_flight

BALANCE = "/accounts/balance/get"
GET = "/accounts/get"


async def test_a_fresh_server_has_seen_nothing(plaid_sandbox: SandboxServer) -> None:
    assert plaid_sandbox.stats == Stats(
        requests=0, by_path={}, by_status={}, faults={}, errors={}, in_flight=0, max_in_flight=0
    )


async def test_requests_are_counted_by_path_status_error_and_fault(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer
) -> None:
    sandbox = plaid_sandbox
    await post(http, sandbox, GET)
    await post(http, sandbox, BALANCE)
    await post(http, sandbox, BALANCE, token=sandbox.error_token("ITEM_LOGIN_REQUIRED"))
    await post(http, sandbox, "/nowhere")
    sandbox.enqueue("502", "429")
    await post(http, sandbox, BALANCE)
    await post(http, sandbox, GET)
    stats = sandbox.stats
    assert stats.requests == 6
    assert stats.by_path == {GET: 2, BALANCE: 3, "/nowhere": 1}
    assert stats.by_status == {200: 2, 400: 1, 404: 1, 502: 1, 429: 1}
    assert stats.errors == {"ITEM_LOGIN_REQUIRED": 1, "NOT_FOUND": 1, "RATE_LIMIT": 1}
    assert stats.faults == {"502": 1, "429": 1}


async def test_the_most_requests_in_flight(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer
) -> None:
    plaid_sandbox.set_faults(Faults(latency=0.2))
    await asyncio.gather(
        *(post(http, plaid_sandbox, token=plaid_sandbox.token(n)) for n in range(5))
    )
    await post(http, plaid_sandbox)
    stats = plaid_sandbox.stats
    assert (stats.in_flight, stats.max_in_flight, stats.requests) == (0, 5, 6)


async def test_reset_starts_counting_again_from_what_is_in_flight(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer
) -> None:
    await post(http, plaid_sandbox)
    plaid_sandbox.set_faults(Faults(latency=0.2))
    pending = asyncio.create_task(post(http, plaid_sandbox))
    await wait_in_flight(plaid_sandbox)
    plaid_sandbox.reset_stats()
    stats = plaid_sandbox.stats
    assert (stats.requests, stats.by_status, stats.in_flight, stats.max_in_flight) == (0, {}, 1, 1)
    await pending
    assert plaid_sandbox.stats.by_status == {200: 1}
    assert plaid_sandbox.stats.in_flight == 0


async def test_a_snapshot_does_not_change_afterwards(
    http: aiohttp.ClientSession, plaid_sandbox: SandboxServer
) -> None:
    before = plaid_sandbox.stats
    await post(http, plaid_sandbox)
    assert before.requests == 0
    assert before.by_path == {}
