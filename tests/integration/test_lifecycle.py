"""Long-lived clients: closing with calls in flight, many callers, a second event loop, a
connection the server dropped while it sat in the pool."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest
from aiohttp import web

from plaid_async import ItemError, PlaidConnectionError, RetryPolicy
from plaid_async.sandbox import Faults, SandboxServer
from tests.integration.rawserver import Server, client_for
from tests.samples import TOKEN, response_doc


class SleepyRetry(RetryPolicy):
    """Waits 30 s between attempts: a call is surely asleep when the test closes the client."""

    def backoff(self, attempt: int) -> float:
        return 30.0


async def wait_until(condition: object, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.01)


async def test_aclose_ends_the_calls_in_flight_at_once(plaid_sandbox: SandboxServer) -> None:
    """Two calls wait on a server that never answers, one sleeps 30 s before its retry: all
    three end within a moment of ``aclose()``, with an error that says why, and nothing more
    is sent."""
    before = asyncio.all_tasks()
    plaid_sandbox.enqueue("hang", "hang", "500")
    client = plaid_sandbox.client(retry=SleepyRetry(wait_initial=1, wait_max=30))
    calls = [asyncio.create_task(client.accounts_get(plaid_sandbox.token(i))) for i in range(3)]
    await wait_until(lambda: plaid_sandbox.stats.requests == 3 and not plaid_sandbox.queued)
    await asyncio.sleep(0.05)  # the third call's 500 has been read: it is asleep
    start = time.monotonic()
    await client.aclose()
    closed_in = time.monotonic() - start
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    assert closed_in < 1.0
    for outcome in outcomes:
        assert isinstance(outcome, PlaidConnectionError), repr(outcome)
        assert "closed while this call was in flight" in str(outcome)
    assert plaid_sandbox.stats.requests == 3
    with pytest.raises(RuntimeError, match="closed"):
        await client.accounts_get(plaid_sandbox.token(0))
    await wait_until(lambda: asyncio.all_tasks() <= before)  # the emulator's handlers too


async def test_aclose_ends_a_call_waiting_on_the_rate_limiter(
    plaid_sandbox: SandboxServer,
) -> None:
    plaid_sandbox.enqueue("hang")
    client = plaid_sandbox.client(rate_limiter=0.1)  # one request every 10 s
    calls = [asyncio.create_task(client.accounts_get(plaid_sandbox.token(i))) for i in range(2)]
    await wait_until(lambda: plaid_sandbox.stats.in_flight == 1)
    start = time.monotonic()
    await client.aclose()
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    assert time.monotonic() - start < 1.0
    assert all(isinstance(outcome, PlaidConnectionError) for outcome in outcomes), outcomes
    assert plaid_sandbox.stats.requests == 1


async def test_the_callers_own_cancellation_stays_a_cancellation(
    plaid_sandbox: SandboxServer,
) -> None:
    plaid_sandbox.enqueue("hang")
    async with plaid_sandbox.client() as client:
        task = asyncio.create_task(client.accounts_get(plaid_sandbox.token(1)))
        await wait_until(lambda: plaid_sandbox.stats.in_flight == 1)
        task.cancel()
        await client.aclose()  # closing at the same time does not turn it into an error
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_batch_on_a_closed_client_is_a_clear_error(plaid_sandbox: SandboxServer) -> None:
    client = plaid_sandbox.client()
    await client.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        async for _ in client.accounts_get_many([plaid_sandbox.token(1)]):
            pass
    assert plaid_sandbox.stats.requests == 0


async def test_one_client_shared_by_many_callers(plaid_sandbox: SandboxServer) -> None:
    """300 callers, 10 connections, some faults: each caller gets its own Item's accounts.

    8 attempts: with 15% faults, the odds that one of 300 calls fails all of them are 1e-4."""
    plaid_sandbox.set_faults(Faults(rate_500=0.05, rate_reset=0.05, rate_truncate=0.05))
    retry = RetryPolicy(max_attempts=8, wait_initial=0.001, wait_max=0.005)
    tokens = [plaid_sandbox.token(i) for i in range(300)]
    async with plaid_sandbox.client(max_connections=10, retry=retry) as client:
        calls = [
            client.accounts_get(token) if i % 2 else client.accounts_balance_get(token)
            for i, token in enumerate(tokens)
        ]
        responses = await asyncio.gather(*calls)
    for token, resp in zip(tokens, responses, strict=True):
        expected = plaid_sandbox.item(token)
        assert [a.account_id for a in resp.accounts] == list(expected.account_ids)


async def test_a_second_event_loop_is_a_clear_error_not_a_hang(
    plaid_sandbox: SandboxServer,
) -> None:
    async with plaid_sandbox.client() as client:
        await client.accounts_get(plaid_sandbox.token(1))  # binds it to this loop

        def elsewhere() -> None:
            asyncio.run(client.accounts_get(plaid_sandbox.token(1)))

        with pytest.raises(RuntimeError, match="bound to the event loop"):
            await asyncio.wait_for(asyncio.to_thread(elsewhere), timeout=5)
        await client.accounts_get(plaid_sandbox.token(1))  # and still works here
    assert plaid_sandbox.stats.requests == 2


async def test_a_pooled_connection_the_server_dropped_is_retried_once(server: Server) -> None:
    """The server closes a keep-alive connection just as the next request goes out on it (its
    idle timeout, a restart): the call is retried on a new connection and succeeds."""
    dropped: list[tuple[str, int]] = []

    async def drop_the_second_request_on_a_connection(request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peername")  # type: ignore[union-attr]
        if server.peers.count(peer) == 2 and not dropped:
            dropped.append(peer)
            request.transport.abort()  # type: ignore[union-attr]
        return web.Response(body=json.dumps(response_doc()), content_type="application/json")

    server.handler = drop_the_second_request_on_a_connection
    async with client_for(server) as client:
        await client.accounts_get(TOKEN)
        resp = await client.accounts_get(TOKEN)
    assert resp.request_id == "bkVE1BHWMAZ9Rnr"
    assert len(server.peers) == 3  # first call, the dropped try, its one retry
    assert server.peers[1] == server.peers[0] == dropped[0]
    assert server.peers[2] != server.peers[0]


async def test_a_users_session_that_raises_for_status_still_gets_plaids_errors(
    plaid_sandbox: SandboxServer,
) -> None:
    """``ClientSession(raise_for_status=True)`` would turn Plaid's 429 into aiohttp's exception,
    losing its error body and its retry: the client asks for the answer whatever its status."""
    plaid_sandbox.enqueue("429", "ITEM_LOGIN_REQUIRED")
    async with (
        aiohttp.ClientSession(raise_for_status=True) as session,
        plaid_sandbox.client(session=session) as client,
    ):
        with pytest.raises(ItemError) as info:
            await client.accounts_get(plaid_sandbox.token(1))
    assert info.value.error_code == "ITEM_LOGIN_REQUIRED"
    assert plaid_sandbox.stats.requests == 2  # the 429 was retried
