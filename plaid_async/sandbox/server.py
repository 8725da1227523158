"""``SandboxServer``: the emulator on aiohttp.web, on the caller's event loop, with faults.

Each request gets a :class:`~plaid_async.sandbox.faults.Decision` the moment it arrives (so
arrival order, not completion order, decides who gets which fault), waits out its latency,
then gets Plaid's answer from :class:`~plaid_async.sandbox.api.PlaidLogic` or the fault's
misbehaviour, written at the socket level where a fault needs it (a reset, a short body, a
drip). Every method is meant to be called from the loop the server runs on.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import socket
import struct
from types import TracebackType
from typing import Any

import attrs
from aiohttp import web

from plaid_async import PlaidClient

from .api import Answer, PlaidLogic, error_answer
from .catalog import CATALOG
from .data import SandboxItem, error_token, item_for, sandbox_token
from .faults import Decision, FaultPlan, Faults
from .ratelimits import RateLimitCounter, RateLimits
from .stats import Stats, StatsRecorder
from .wire import dumps

__all__ = ["DEFAULT_CLIENT_ID", "DEFAULT_SECRET", "SandboxServer"]

log = logging.getLogger("plaid_async.sandbox")

DEFAULT_CLIENT_ID = "sandbox-client-id"
DEFAULT_SECRET = "sandbox-secret"  # noqa: S105 - a fixed test value, accepted only by the emulator
"""The credentials the emulator accepts unless given others: test values, not secrets."""

_JSON = "application/json; charset=utf-8"
_GATEWAY_PAGES = {502: "502 Bad Gateway", 503: "503 Service Temporarily Unavailable"}
_FAULT_CODES = {"500": "INTERNAL_SERVER_ERROR", "maintenance": "PLANNED_MAINTENANCE"}


def _nginx_page(status: int) -> bytes:
    title = _GATEWAY_PAGES[status]
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    ).encode("ascii")


def _fault_code(decision: Decision) -> str | None:
    """The Plaid error code a JSON fault answers with, or None."""
    if decision.outcome == "429":
        return decision.faults.code_429
    if decision.outcome in CATALOG:
        return decision.outcome
    return _FAULT_CODES.get(decision.outcome)


class SandboxServer:
    """An emulator of Plaid's ``/accounts/get`` and ``/accounts/balance/get`` on loopback.

    ::

        async with SandboxServer(seed=7) as sandbox:
            async with sandbox.client() as client:
                resp = await client.accounts_get(sandbox.token(1))

    :param host: the address to bind; loopback unless you mean to share it.
    :param port: 0 picks a free port; :attr:`url` tells which.
    :param client_id: the client id it accepts.
    :param secret: the secret it accepts.
    :param faults: the initial :class:`Faults` (none by default).
    :param seed: seeds the fault and latency draws; the same seed, the same faults.
    :param rate_limits: Plaid's per-minute limits to enforce, e.g. ``RateLimits.sandbox()``;
        None (the default) enforces none.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        client_id: str = DEFAULT_CLIENT_ID,
        secret: str = DEFAULT_SECRET,
        faults: Faults | None = None,
        seed: int | None = None,
        rate_limits: RateLimits | None = None,
    ) -> None:
        if not client_id or not secret:
            raise ValueError("client_id and secret must not be empty")
        self._host = host
        self._port = port
        self._logic = PlaidLogic(client_id, secret)
        self._plan = FaultPlan(faults or Faults(), seed)
        self._stats = StatsRecorder()
        self.set_rate_limits(rate_limits)
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None
        self._clients: list[PlaidClient] = []

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind and start serving. The port is known once this returns."""
        if self._runner is not None:
            raise RuntimeError("this SandboxServer is already started")
        self._stopping = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._handle)
        # handler_cancellation: a client that goes away ends its hang or drip at once.
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = runner.addresses[0][1]
        log.info("Plaid sandbox emulator listening on %s", self.url)

    async def aclose(self) -> None:
        """Stop: hanging and dripping answers end with the connection, clients made by
        :meth:`client` are closed. Safe to call twice."""
        if self._runner is None or self._stopping is None:
            return
        self._stopping.set()
        for client in self._clients:
            await client.aclose()
        self._clients.clear()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> SandboxServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- where and who ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``: the ``base_url`` for a client."""
        if self._runner is None:
            raise RuntimeError("the SandboxServer is not started")
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"

    @property
    def port(self) -> int:
        return self._port

    @property
    def client_id(self) -> str:
        return self._logic.client_id

    @property
    def secret(self) -> str:
        return self._logic.secret

    def client(self, **kwargs: Any) -> PlaidClient:
        """A :class:`~plaid_async.PlaidClient` for this emulator; ``kwargs`` go to its
        constructor. It is closed with the server, if not before."""
        client = PlaidClient(self.client_id, self.secret, base_url=self.url, **kwargs)
        self._clients.append(client)
        return client

    # -- data ------------------------------------------------------------------------------

    @staticmethod
    def token(n: int | str = 0) -> str:
        """A valid access token, the same for the same ``n``, with its own Item."""
        return sandbox_token(n)

    @staticmethod
    def error_token(code: str, n: int | str = 0) -> str:
        """A token whose Item answers with Plaid error ``code`` (e.g. ``ITEM_LOGIN_REQUIRED``)."""
        return error_token(code, n)

    @staticmethod
    def item(access_token: str) -> SandboxItem:
        """A copy of the Item and accounts served for ``access_token``."""
        return copy.deepcopy(item_for(access_token))

    def set_item_error(self, access_token: str, code: str) -> None:
        """Put the Item in error ``code`` (as ``/sandbox/item/reset_login`` does for
        ``ITEM_LOGIN_REQUIRED``): both endpoints answer with it until cleared."""
        self._logic.set_item_error(access_token, code)

    def clear_item_error(self, access_token: str) -> None:
        """Make the Item healthy again, also one whose token asked for an error."""
        self._logic.clear_item_error(access_token)

    # -- faults, limits, counters ----------------------------------------------------------

    @property
    def faults(self) -> Faults:
        return self._plan.faults

    def set_faults(self, faults: Faults) -> None:
        if not isinstance(faults, Faults):
            raise TypeError(f"faults must be a Faults, not {type(faults).__name__}")
        self._plan.faults = faults

    def update_faults(self, **changes: Any) -> Faults:
        """Change some fields of :attr:`faults`, e.g. ``update_faults(rate_500=0.2)``."""
        self._plan.faults = attrs.evolve(self._plan.faults, **changes)
        return self._plan.faults

    def enqueue(self, *outcomes: str) -> None:
        """The next requests, in arrival order, get exactly these outcomes, whatever the
        rates: ``"ok"``, a fault kind (``"500"``, ``"reset"``, ...) or a Plaid error code."""
        self._plan.enqueue(outcomes)

    @property
    def queued(self) -> tuple[str, ...]:
        """The outcomes still waiting in the queue."""
        return self._plan.queued

    def clear_queue(self) -> None:
        self._plan.clear_queue()

    @property
    def rate_limits(self) -> RateLimits | None:
        limiter = self._logic.limiter
        return None if limiter is None else limiter.limits

    def set_rate_limits(self, rate_limits: RateLimits | None) -> None:
        """Enforce ``rate_limits`` (counting afresh), or none with None."""
        if rate_limits is not None and not isinstance(rate_limits, RateLimits):
            raise TypeError(f"rate_limits must be a RateLimits, not {type(rate_limits).__name__}")
        self._logic.limiter = None if rate_limits is None else RateLimitCounter(rate_limits)

    @property
    def stats(self) -> Stats:
        """A snapshot of the counters."""
        return self._stats.snapshot()

    def reset_stats(self) -> None:
        self._stats.reset()

    # -- serving ---------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        decision = self._plan.decide(request.path)  # before any await: arrival order
        self._stats.begin(request.path)
        try:
            body = await request.read()
            if decision.delay and await self._stopped_within(decision.delay):
                return self._reset(request)
            if decision.outcome != "ok":
                self._stats.fault(decision.outcome)
            return await self._respond(request, body, decision)
        finally:
            self._stats.end()

    async def _respond(
        self, request: web.Request, body: bytes, decision: Decision
    ) -> web.StreamResponse:
        outcome = decision.outcome
        if outcome == "reset":
            return self._reset(request)
        if outcome == "hang":
            await self._stopped_within(None)
            return self._reset(request)
        if outcome in ("502", "503"):
            return self._gateway_page(request, int(outcome))
        code = _fault_code(decision)
        if code is not None:
            return self._json(request, error_answer(code))
        answer = self._logic.answer(
            request.method, request.path, request.content_type, request.headers, body
        )
        if outcome == "truncate":
            return self._json(request, answer, cut=True)
        if outcome == "short_read":
            return await self._short_read(request, answer)
        if outcome == "drip":
            return await self._drip(request, answer, decision.faults.drip_interval)
        return self._json(request, answer)

    async def _stopped_within(self, seconds: float | None) -> bool:
        """Wait ``seconds`` (None: for ever); True if the server began stopping first."""
        assert self._stopping is not None
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except asyncio.TimeoutError:
            return False
        return True

    def _encode(self, request: web.Request, answer: Answer) -> bytes:
        self._stats.answered(answer.status, answer.error_code)
        log.debug(
            "%s %s -> %s %s (token %s)",
            request.method,
            request.path,
            answer.status,
            answer.error_code or "ok",
            answer.token or "-",
        )
        return dumps(answer.payload)

    def _json(self, request: web.Request, answer: Answer, *, cut: bool = False) -> web.Response:
        body = self._encode(request, answer)
        if cut:  # a body cut short whose Content-Length matches the cut
            body = body[: len(body) // 2]
        return web.Response(status=answer.status, body=body, headers={"Content-Type": _JSON})

    def _gateway_page(self, request: web.Request, status: int) -> web.Response:
        self._stats.answered(status)
        log.debug("%s %s -> %s gateway page", request.method, request.path, status)
        return web.Response(
            status=status,
            body=_nginx_page(status),
            headers={"Content-Type": "text/html", "Server": "nginx"},
        )

    async def _short_read(self, request: web.Request, answer: Answer) -> web.StreamResponse:
        """Promise the whole body in Content-Length, send half, close the connection."""
        body = self._encode(request, answer)
        response = web.StreamResponse(status=answer.status, headers={"Content-Type": _JSON})
        response.content_length = len(body)
        await response.prepare(request)
        await response.write(body[: len(body) // 2])
        if request.transport is not None:
            request.transport.close()  # after what is buffered is sent
        return response

    async def _drip(
        self, request: web.Request, answer: Answer, interval: float
    ) -> web.StreamResponse:
        """The whole answer, one byte every ``interval`` seconds."""
        body = self._encode(request, answer)
        response = web.StreamResponse(status=answer.status, headers={"Content-Type": _JSON})
        response.content_length = len(body)
        await response.prepare(request)
        for i in range(len(body)):
            await response.write(body[i : i + 1])
            last = i + 1 == len(body)
            if not last and interval and await self._stopped_within(interval):
                self._reset(request)
                break
        return response

    def _reset(self, request: web.Request) -> web.StreamResponse:
        """Drop the connection with a TCP reset and no answer."""
        log.debug("%s %s -> connection reset", request.method, request.path)
        transport = request.transport
        if transport is not None:
            sock = transport.get_extra_info("socket")
            if sock is not None:  # SO_LINGER 0: close() sends RST, not FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        return web.Response()  # never sent: aiohttp finds the connection gone
