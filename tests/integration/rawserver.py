"""A bare aiohttp.web server on loopback that records each request's TCP connection.

For tests that watch the server's side of a connection, or script answers the emulator does not
model. Everything Plaid-like is tested against the emulator instead.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

from aiohttp import web

from plaid_async import PlaidClient, RetryPolicy
from tests.samples import CLIENT_ID, SECRET, response_doc

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Server:
    """A loopback server that records which TCP connection each request came on."""

    def __init__(self, handler: Handler | None = None) -> None:
        self.handler = handler
        self.peers: list[tuple[str, int]] = []
        self.in_flight = 0
        self.runner: web.AppRunner | None = None
        self.url = ""
        self.stopping = asyncio.Event()  # handlers that hang wait on this, so stop() is quick

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.peers.append(request.transport.get_extra_info("peername"))  # type: ignore[union-attr]
        self.in_flight += 1
        try:
            if self.handler is not None:
                return await self.handler(request)
            return web.Response(body=json.dumps(response_doc()), content_type="application/json")
        finally:
            self.in_flight -= 1

    async def start(self, port: int = 0) -> None:
        self.stopping.clear()
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app, handle_signals=False)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", port)
        await site.start()
        sockets = site._server.sockets  # type: ignore[union-attr]
        self.port = sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        self.stopping.set()
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


def client_for(server: Server, **kwargs: object) -> PlaidClient:
    kwargs.setdefault("retry", RetryPolicy(wait_initial=0.001, wait_max=0.001))
    return PlaidClient(CLIENT_ID, SECRET, base_url=server.url, **kwargs)  # type: ignore[arg-type]
