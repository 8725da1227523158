"""Connection handling on real sockets: reuse, cancellation, stale keep-alive, refusal."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import web

from plaid_async import PlaidClient, PlaidConnectionError, RetryPolicy
from tests.integration.rawserver import Server, client_for
from tests.samples import CLIENT_ID, SECRET, TOKEN, response_doc


async def test_sequential_calls_reuse_one_connection(server: Server) -> None:
    async with client_for(server) as client:
        for _ in range(5):
            await client.accounts_get(TOKEN)
    assert len(server.peers) == 5
    assert len(set(server.peers)) == 1


async def test_max_connections_bounds_concurrent_connections(server: Server) -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(0.05)
        return web.Response(body=json.dumps(response_doc()), content_type="application/json")

    server.handler = slow
    async with client_for(server, max_connections=4) as client:
        await asyncio.gather(*(client.accounts_get(TOKEN) for _ in range(20)))
    assert len(server.peers) == 20
    assert len(set(server.peers)) == 4


async def test_a_cancelled_call_releases_its_connection(server: Server) -> None:
    started = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        started.set()
        await server.stopping.wait()
        return web.Response(status=500)

    server.handler = hang
    async with client_for(server, max_connections=1) as client:
        task = asyncio.create_task(client.accounts_balance_get(TOKEN))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The single pooled connection is free again: the next call goes through at once.
        server.handler = None
        resp = await asyncio.wait_for(client.accounts_get(TOKEN), timeout=2)
        assert resp.request_id == "bkVE1BHWMAZ9Rnr"
    assert len(server.peers) == 2  # the cancelled call was not retried


async def test_a_server_restart_between_calls_is_not_a_failure(server: Server) -> None:
    """Pooled keep-alive connections die with the server; the next call retries on a new one."""
    async with client_for(server) as client:
        await client.accounts_get(TOKEN)
        port = server.port
        await server.stop()
        await server.start(port)
        resp = await client.accounts_get(TOKEN)
    assert resp.request_id == "bkVE1BHWMAZ9Rnr"


async def test_a_refused_connection_is_retried_then_raised() -> None:
    srv = Server()
    await srv.start()
    url = srv.url
    await srv.stop()  # nothing listens on this port any more
    client = PlaidClient(
        CLIENT_ID,
        SECRET,
        base_url=url,
        retry=RetryPolicy(max_attempts=2, wait_initial=0.001, wait_max=0.001),
    )
    async with client:
        with pytest.raises(PlaidConnectionError, match="connection failed") as info:
            await client.accounts_get(TOKEN)
    assert info.value.__cause__ is not None
